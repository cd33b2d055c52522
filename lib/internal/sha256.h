// SHA-256, incremental: what etcd appends to a snapshot and the client checks.
// OpenSSL's libcrypto computes it (gRPC already links it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

struct evp_md_ctx_st;

namespace etcdgrpc::internal {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The 32-byte digest; the object must not be updated afterwards.
  [[nodiscard]] std::array<uint8_t, 32> Finish();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> context_;
};

}  // namespace etcdgrpc::internal
