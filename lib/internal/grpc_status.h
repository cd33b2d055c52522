// The one place where a gRPC status becomes an absl::Status: keeps etcd's
// message and code, and names the endpoint and method.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::internal {

// "<etcd message> [<endpoint> <method>]", with the plain message and the
// endpoint also attached as payloads (see errors.h).
[[nodiscard]] absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view endpoint,
                                          absl::string_view method);

}  // namespace etcdgrpc::internal
