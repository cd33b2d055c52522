// Why a dial failed, in words a user can act on: gRPC's reason for each
// endpoint, and what a connection broken off during or after a TLS handshake
// most likely means (no or a foreign client certificate, TLS on one side only).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/internal/connection.h"

namespace etcdgrpc::internal {

// Why `stubs`' endpoint is unreachable, in gRPC's words (e.g. "Connection
// refused") plus the likely TLS cause: a fail-fast call (200 ms) on a channel
// in TRANSIENT_FAILURE returns the last connection error at once.
[[nodiscard]] std::string ProbeFailure(EndpointStubs& stubs);

// UNAVAILABLE naming each endpoint when every endpoint is a TLS one whose
// last connection failed verifying the server certificate; OK otherwise.
[[nodiscard]] absl::Status CertificatesRejected(
    const std::vector<std::unique_ptr<EndpointStubs>>& endpoints);

}  // namespace etcdgrpc::internal
