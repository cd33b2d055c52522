// The one place where a gRPC status becomes an absl::Status: keeps etcd's
// message and code, and names the endpoint and method.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::internal {

// "<etcd message> [<endpoint> <method>]", with the plain message and the
// endpoint also attached as payloads (see errors.h).
[[nodiscard]] absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view endpoint,
                                          absl::string_view method);

// A PERMISSION_DENIED status with the key or range the call was about
// appended ("... (key \"/a\")", "(prefix \"/a/\")", "(range [\"a\", \"b\"))"):
// etcd's "etcdserver: permission denied" does not say. The payloads stay;
// other statuses are returned unchanged. `range_end` is in wire form.
[[nodiscard]] absl::Status WithKeyRange(absl::Status status, absl::string_view key,
                                        absl::string_view range_end);
// The key or range in the words above (without the parentheses).
std::string DescribeKeyRange(absl::string_view key, absl::string_view range_end);

}  // namespace etcdgrpc::internal
