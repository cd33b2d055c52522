#include "internal/scheduler.h"

#include <utility>

#include "absl/time/clock.h"

namespace etcdgrpc::resolver::internal {

Scheduler::Scheduler() : thread_([this] { Loop(); }) {}

Scheduler::~Scheduler() { Shutdown(); }

void Scheduler::Shutdown() {
  std::multimap<absl::Time, std::function<void()>> left;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    left.swap(tasks_);
  }
  if (thread_.joinable()) thread_.join();
  // Destroyed here, outside the lock: their captures may post (dropped).
  left.clear();
}

void Scheduler::RunAt(absl::Time when, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return;
  tasks_.emplace(when, std::move(task));
}

void Scheduler::RunAfter(absl::Duration delay, std::function<void()> task) {
  RunAt(absl::Now() + delay, std::move(task));
}

void Scheduler::Loop() {
  absl::MutexLock lock(&mu_);
  while (!shutdown_) {
    const absl::Time next = tasks_.empty() ? absl::InfiniteFuture() : tasks_.begin()->first;
    // absl::Mutex re-checks the condition whenever the lock is released, so
    // a new earlier task or shutdown wakes the wait.
    auto ready = [this, next]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return shutdown_ || (!tasks_.empty() && tasks_.begin()->first < next);
    };
    mu_.AwaitWithDeadline(absl::Condition(&ready), next);
    if (shutdown_) break;
    const absl::Time now = absl::Now();
    while (!tasks_.empty() && tasks_.begin()->first <= now && !shutdown_) {
      std::function<void()> task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
      mu_.Unlock();
      task();
      task = nullptr;
      mu_.Lock();
    }
  }
}

}  // namespace etcdgrpc::resolver::internal
