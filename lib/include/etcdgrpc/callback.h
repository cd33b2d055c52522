// The completion type of every asynchronous call of the client and of its
// service facades (auth, cluster, maintenance).
#pragma once

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace etcdgrpc {

// Completion of an asynchronous call. Runs on a gRPC thread, never while the
// library holds a lock; it should return quickly.
template <class T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

}  // namespace etcdgrpc
