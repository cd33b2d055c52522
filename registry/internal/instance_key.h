// What the codecs whose key ends in `{service}/{id}` share: reading the
// instance's service and id back from a stored key, and values that are a
// plain `host:port` (go-zero, host:port).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry::internal {

// An instance with the key's last segment as id and `service` (empty: the
// segment before it) as service. InvalidArgument "registry value at <key> is
// not under a <parent> prefix" when the key has no last segment.
[[nodiscard]] absl::StatusOr<ServiceInstance> InstanceFromKey(std::string_view service,
                                                              std::string_view key,
                                                              std::string_view parent);

// InstanceFromKey with `value` as its address; InvalidArgument "registry value
// at <key> is not <what>: <why>" when the value is not a host:port.
[[nodiscard]] absl::StatusOr<ServiceInstance> DecodeAddressValue(std::string_view service,
                                                                 std::string_view key,
                                                                 std::string_view value,
                                                                 std::string_view parent,
                                                                 std::string_view what);

}  // namespace etcdgrpc::registry::internal
