// Lease ids as etcdctl prints them (Go's fmt "%016x" of an int64), in every
// message, log line and output of the project, so that an id can be grepped
// for across etcdctl, etcd's logs and ours.
#pragma once

#include <cstdint>
#include <string>

namespace etcdgrpc::internal {

// 16 hex digits, zero-padded; a negative id is "-" followed by its magnitude
// padded to 15 digits.
[[nodiscard]] std::string FormatLeaseId(int64_t id);

}  // namespace etcdgrpc::internal
