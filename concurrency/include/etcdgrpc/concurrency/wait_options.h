// How long a blocking wait of the concurrency library (Mutex::Lock,
// Election::Campaign) may last, and a way to abandon it from another thread
// (what Go's context cancellation does for clientv3/concurrency).
#pragma once

#include <memory>

#include "absl/time/time.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc::concurrency {

namespace internal {
struct CancelState;
}  // namespace internal

// Abandons the waits it was given to, now and later: once Cancel() is called,
// a wait in progress gives up (its key removed) and returns CANCELLED, and any
// wait started with it afterwards fails at once. Thread-safe; copies share the
// same state.
class ETCDGRPC_EXPORT Canceller {
 public:
  Canceller();
  void Cancel();
  [[nodiscard]] bool cancelled() const;

  // For the library: the shared state that waits register with.
  const std::shared_ptr<internal::CancelState>& state() const { return state_; }

 private:
  std::shared_ptr<internal::CancelState> state_;
};

struct ETCDGRPC_EXPORT WaitOptions {
  // Wall-clock deadline of the whole wait; past it the wait gives up (its key
  // removed) with DEADLINE_EXCEEDED. Each etcd call inside it is also bounded
  // by the client's request time-out.
  absl::Time deadline = absl::InfiniteFuture();
  // Not null: Cancel() abandons the wait (CANCELLED). Must outlive the call.
  const Canceller* canceller = nullptr;
};

}  // namespace etcdgrpc::concurrency
