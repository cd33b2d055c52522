// Reading the errors the client returns: etcd's own message, the endpoint that
// produced it, and tests for the conditions callers act on.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

// etcd's (or gRPC's) message without the endpoint and method the client
// appends, e.g. "etcdserver: mvcc: required revision has been compacted".
[[nodiscard]] ETCDGRPC_EXPORT std::string ServerMessage(const absl::Status& status);

// The endpoint ("host:port") a failed call went to, when the error came from
// the wire.
[[nodiscard]] ETCDGRPC_EXPORT std::optional<std::string> ErrorEndpoint(const absl::Status& status);

// The requested revision was compacted away.
[[nodiscard]] ETCDGRPC_EXPORT bool IsCompacted(const absl::Status& status);
// The requested revision is ahead of the store.
[[nodiscard]] ETCDGRPC_EXPORT bool IsFutureRevision(const absl::Status& status);
// The lease does not exist (expired or revoked).
[[nodiscard]] ETCDGRPC_EXPORT bool IsLeaseNotFound(const absl::Status& status);
// The client was closed (its owner destroyed): CANCELLED "the client was
// closed…", from calls and watch ends on it and on its Share() handles. Final.
[[nodiscard]] ETCDGRPC_EXPORT bool IsClientClosed(const absl::Status& status);

}  // namespace etcdgrpc
