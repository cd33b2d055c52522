#include "lib/internal/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace etcdgrpc::internal {
namespace {

// Only an allocation failure can make these fail; there is no sensible way on.
void Check(int ok, const char* what) {
  if (ok == 1) return;
  std::fprintf(stderr, "etcdgrpc: OpenSSL %s failed\n", what);
  std::abort();
}

}  // namespace

void Sha256::Free::operator()(evp_md_ctx_st* context) const { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  Check(context_ != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  Check(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

void Sha256::Update(std::string_view data) {
  Check(EVP_DigestUpdate(context_.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

std::array<uint8_t, 32> Sha256::Finish() {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  Check(EVP_DigestFinal_ex(context_.get(), digest.data(), &size), "EVP_DigestFinal_ex");
  Check(size == digest.size() ? 1 : 0, "SHA-256 digest size");
  return digest;
}

}  // namespace etcdgrpc::internal
