// The endpoints a per-member command (endpoint status, health, hashkv, defrag)
// visits: --endpoints as given, or with --cluster every client URL of the
// member list (etcdctl's endpointsFromCluster); and clients for any of them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command.h"

namespace etcdgrpc::cli {

// With `cluster`, the member list from --endpoints, every member's client
// URLs in order; a failure reads "failed to fetch endpoints from etcd cluster
// member list: <etcd's message>" (exit code 1).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> EndpointsFromCluster(const CommandEnv& env,
                                                                            bool cluster);

// A client of `endpoints` with every other global flag (TLS, user, time-outs)
// as given; it does not wait for a connection, so each call reports its own
// endpoint's failure.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Client>> ConnectToEndpoints(
    const CommandEnv& env, const std::vector<std::string>& endpoints);

}  // namespace etcdgrpc::cli
