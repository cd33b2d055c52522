// SHA-256 (FIPS 180-4), incremental: what etcd appends to a snapshot and the
// client checks. Our own ~80 lines rather than OpenSSL's, so that the installed
// library adds no dependency for its consumers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace etcdgrpc::internal {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The 32-byte digest; the object must not be updated afterwards.
  [[nodiscard]] std::array<uint8_t, 32> Finish();

 private:
  void Block(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

}  // namespace etcdgrpc::internal
