// Reading the outcome of a write made with the session's lease: an etcd
// "lease not found" means the session is lost; a failure in transit may have
// been applied.
#pragma once

#include "absl/status/status.h"
#include "etcdgrpc/concurrency/session.h"

namespace etcdgrpc::concurrency::internal {

// The session's loss when `error` is etcd's "requested lease not found" for
// the session's lease (the session is marked lost), or when the session was
// lost already; OK otherwise.
[[nodiscard]] absl::Status SessionErrorOf(Session& session, const absl::Status& error);

// UNAVAILABLE or DEADLINE_EXCEEDED: etcd may have applied the write.
[[nodiscard]] bool MayHaveBeenApplied(const absl::Status& error);

}  // namespace etcdgrpc::concurrency::internal
