// A client's channels, one per endpoint, made from ClientOptions. Apart from the
// Connection so that what gRPC is told (TLS, reconnect backoff, keepalive, the wire log)
// reads in one place, separate from how endpoints are picked once the channels exist.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/client_options.h"
#include "lib/internal/connection.h"

namespace etcdgrpc::internal {

// INVALID_ARGUMENT naming the first option Connect() cannot use (no endpoints, a password
// without a username, time-outs and sizes out of range, liveness durations); OK otherwise.
// The endpoints themselves are checked by OpenChannels().
[[nodiscard]] absl::Status CheckDialOptions(const ClientOptions& options);

// A channel and its stubs per endpoint, in the order given. INVALID_ARGUMENT for a malformed
// or repeated endpoint, an http:// endpoint next to TLS options, or TLS files that cannot be
// used. The channels do not connect yet.
[[nodiscard]] absl::StatusOr<std::vector<std::unique_ptr<EndpointStubs>>> OpenChannels(
    const ClientOptions& options);

}  // namespace etcdgrpc::internal
