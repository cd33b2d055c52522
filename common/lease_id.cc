#include "common/lease_id.h"

#include "absl/strings/str_format.h"

namespace etcdgrpc::internal {

std::string FormatLeaseId(int64_t id) {
  if (id >= 0) return absl::StrFormat("%016x", static_cast<uint64_t>(id));
  // The magnitude as unsigned: also right for INT64_MIN.
  const uint64_t magnitude = uint64_t{0} - static_cast<uint64_t>(id);
  return absl::StrFormat("-%015x", magnitude);
}

}  // namespace etcdgrpc::internal
