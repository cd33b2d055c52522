#include "registry/internal/scheduler.h"

#include <utility>

#include "absl/time/clock.h"

namespace etcdgrpc::registry::internal {

void Scheduler::PostAt(absl::Time when, Task task) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return;  // `task` is destroyed on return, outside the lock's users
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }
  tasks_.emplace(when, std::move(task));
}

void Scheduler::Shutdown() {
  std::multimap<absl::Time, Task> left;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    left.swap(tasks_);
  }
  if (thread_.joinable()) thread_.join();
  // Destroyed here, outside the lock: tasks own references that may run
  // destructors which post (and are dropped).
  left.clear();
}

void Scheduler::Run() {
  thread_id_.store(std::this_thread::get_id());
  mu_.Lock();
  while (!shutdown_) {
    if (tasks_.empty()) {
      mu_.Await(absl::Condition(
          +[](Scheduler* s)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->shutdown_ || !s->tasks_.empty(); },
          this));
      continue;
    }
    auto first = tasks_.begin();
    if (first->first > absl::Now()) {
      // Sleeps until the first task's time, or until an earlier task is
      // posted (Await re-evaluates the condition whenever the lock is
      // released).
      struct Wait {
        Scheduler* self;
        absl::Time until;
      } wait{this, first->first};
      mu_.AwaitWithDeadline(absl::Condition(
                                +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return w->self->shutdown_ ||
                                         w->self->tasks_.begin()->first < w->until;
                                },
                                &wait),
                            wait.until);
      continue;
    }
    Task task = std::move(first->second);
    tasks_.erase(first);
    mu_.Unlock();
    std::move(task)();
    task = nullptr;  // its captures die outside the lock
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace etcdgrpc::registry::internal
