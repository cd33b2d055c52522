// The Registrar's one background thread: runs tasks now or at a given time,
// one at a time, in time order (posting order among equal times). It drives
// re-registration retries and delivers listener calls, so no registration
// needs a thread of its own.
#pragma once

#include <atomic>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcdgrpc::registry::internal {

class Scheduler {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  Scheduler() = default;
  ~Scheduler() { Shutdown(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` on the thread as soon as possible (the thread starts on the
  // first post). Dropped after Shutdown().
  void Post(Task task) { PostAt(absl::InfinitePast(), std::move(task)); }
  // Runs `task` on the thread at `when` or soon after.
  void PostAt(absl::Time when, Task task);
  // Stops the thread after the task in progress and destroys the tasks left.
  // Must not be called from the thread itself.
  void Shutdown();
  // True on the scheduler's thread.
  [[nodiscard]] bool InThread() const { return std::this_thread::get_id() == thread_id_.load(); }

 private:
  void Run();

  absl::Mutex mu_;
  std::multimap<absl::Time, Task> tasks_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
};

}  // namespace etcdgrpc::registry::internal
