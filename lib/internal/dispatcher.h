// Runs user callbacks that come due on the client's timer thread (a lease lost
// at its deadline, a KeepAliveOnce that timed out) on a thread of their own,
// so that the timer never runs user code: a callback that blocks cannot stop
// lease deadlines. A callback blocked for longer than `handoff_after` gets the
// queue handed to a new worker, as the stream readers do.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "common/thread_set.h"

namespace etcdgrpc::internal {

class Dispatcher : public Scheduler::Slot {
 public:
  Dispatcher(Scheduler& timer, absl::Duration handoff_after);
  ~Dispatcher() override;

  // Runs `fn` soon on the dispatcher's thread (started on first use).
  void Post(absl::AnyInvocable<void() &&> fn);
  // Runs what is queued, then stops; waits for the workers. Posts after this
  // run on the calling thread, so that nothing posted is ever dropped.
  void Shutdown();
  // Workers started so far (1 + hand-offs).
  uint64_t workers_started() const { return workers_started_.load(std::memory_order_relaxed); }

  // Timer thread: hands the queue over if a callback blocks.
  absl::Time OnTimer(absl::Time now) override;

 private:
  void Work(uint64_t token);
  void StartWorkerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Scheduler& timer_;
  const absl::Duration handoff_after_;

  Mutex mu_;
  CondVar wake_;
  std::vector<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  // The worker whose token is current takes from the queue; a worker handed
  // off ends once its callback returns.
  uint64_t token_ ABSL_GUARDED_BY(mu_) = 0;
  bool worker_running_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // MonoNow() ns when the current worker entered a callback; 0 when idle.
  std::atomic<int64_t> busy_since_ns_{0};
  std::atomic<uint64_t> workers_started_{0};
  ThreadSet threads_;
  // The slot was added to the timer (first Post).
  std::once_flag registered_;
};

}  // namespace etcdgrpc::internal
