// What a balancing channel dials for one endpoint set: the ipv4:/ipv6:
// target of its IP addresses (the endpoints with host names left out), and
// the service config that asks gRPC for round_robin, health checks and
// retries. Pure functions, unit-tested.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/resolver/balancing_channel.h"
#include "etcdgrpc/resolver/endpoint.h"

namespace etcdgrpc::resolver::internal {

struct ChannelTarget {
  // "ipv4:a:p,b:p" when every address is IPv4; "ipv6:[a]:p,..." otherwise,
  // IPv4 addresses then written IPv4-mapped ([::ffff:a.b.c.d]:p; gRPC dials
  // them over IPv4). Addresses sorted, duplicates once. Empty: none usable.
  std::string target;
  // Why `target` is empty (UNAVAILABLE: no endpoint; FAILED_PRECONDITION:
  // host names only); OK otherwise.
  absl::Status status;
  // Endpoints left out, as "key (address)": not an IP address.
  std::vector<std::string> left_out;
};

[[nodiscard]] ChannelTarget BuildChannelTarget(const EndpointSet& set);

// FAILED_PRECONDITION naming the endpoints left out and the limit.
[[nodiscard]] absl::Status HostNamesError(const std::string& service,
                                          const std::vector<std::string>& left_out);

// The service config JSON for `options`; INVALID_ARGUMENT for a retry
// policy gRPC would reject (or silently change) or a negative retire_delay.
[[nodiscard]] absl::StatusOr<std::string> ServiceConfigJson(const ChannelOptions& options);

}  // namespace etcdgrpc::resolver::internal
