// Runs one subscriber's callbacks (a kept lease's or a watch's listener) one
// at a time and in order, never under a library lock, on whichever library
// thread produced them. A callback may call back into the library, even stop
// its own subscription; Stop() from another thread waits for a running one.
#pragma once

#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "common/mutex.h"

namespace etcdgrpc::internal {

class SerialExecutor {
 public:
  // Runs `fn` now on this thread, or after the callback running on another
  // thread (or further up this thread's stack) returns. Dropped after Stop().
  void Run(absl::AnyInvocable<void() &&> fn);
  // Run() in two steps, so that a caller can queue callbacks for several
  // subscribers in order under its own lock and run them after releasing it:
  // Post() queues `fn` and returns true when the caller must then call
  // Drain(), on that thread or another (no thread is running this
  // executor's callbacks).
  [[nodiscard]] bool Post(absl::AnyInvocable<void() &&> fn);
  void Drain();
  // No callback starts after this returns; one running on another thread has
  // returned. Called from inside a callback, it does not wait for that one.
  void Stop();
  bool stopped() const;

 private:
  mutable Mutex mu_;
  CondVar drained_;
  // Pending callbacks from index `head_` on. A vector and an index rather
  // than a std::deque, which allocates ~600 bytes even when empty: there is
  // one executor per watch and per kept lease.
  std::vector<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id drain_thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::internal
