// Which of the client's endpoints a call to one named member goes to (Status,
// Defragment, Hash, HashKV, Snapshot pin their one attempt there).
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/internal/connection.h"
#include "lib/internal/endpoint.h"

namespace etcdgrpc::internal {

// The index of `endpoint` ("host:port" or a URL) among the connection's;
// INVALID_ARGUMENT when it is not one of them, CANCELLED once the client is
// closed.
[[nodiscard]] absl::StatusOr<size_t> EndpointIndex(Connection& connection,
                                                   std::string_view endpoint);

}  // namespace etcdgrpc::internal
