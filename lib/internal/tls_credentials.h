// The TLS credentials of a client's channels, from ClientOptions::tls (CA,
// client certificate and key files, each checked with an error naming the
// option and the file) or gRPC's default roots for https:// endpoints.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "etcdgrpc/client_options.h"
#include "grpcpp/security/credentials.h"

namespace etcdgrpc::internal {

[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const ClientOptions& options);

}  // namespace etcdgrpc::internal
