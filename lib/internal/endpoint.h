// Parses and normalizes etcd endpoint strings ("host:port", "http://host:port",
// "https://host:port", "[::1]:port") into gRPC targets.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdgrpc::internal {

struct Endpoint {
  std::string host;  // without brackets for IPv6
  int port = 0;
  bool https = false;  // "https://" was given
  // "host:port" ("[v6]:port"), as used for the gRPC target and in messages.
  std::string address;
};

[[nodiscard]] absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text);

}  // namespace etcdgrpc::internal
