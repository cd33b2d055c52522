#include "lib/internal/dispatcher.h"

#include <utility>

#include "common/clock.h"

namespace etcdgrpc::internal {

Dispatcher::Dispatcher(Scheduler& timer, absl::Duration handoff_after)
    : timer_(timer), handoff_after_(handoff_after) {}

Dispatcher::~Dispatcher() { Shutdown(); }

void Dispatcher::StartWorkerLocked() {
  const uint64_t token = ++token_;
  worker_running_ = true;
  workers_started_.fetch_add(1, std::memory_order_relaxed);
  threads_.Start([this, token] { Work(token); });
}

void Dispatcher::Post(absl::AnyInvocable<void() &&> fn) {
  // The slot is added before the first worker starts, and concurrent first
  // Posts wait for it: a worker's RequestWake() for a slot the timer does not
  // have yet is dropped, and a first callback that blocked was then never
  // handed off (every later callback waited for it; lease_fault_test's
  // BlockedLossListenerDoesNotDelayOtherLeases, about 1 run in 60 under TSan).
  std::call_once(registered_, [this] { timer_.Add(this); });
  // Set when shut down: run here rather than dropped.
  absl::AnyInvocable<void() &&> run_here;
  {
    MutexLock lock(&mu_);
    if (shutdown_) {
      run_here = std::move(fn);
    } else {
      queue_.push_back(std::move(fn));
      if (!worker_running_) StartWorkerLocked();
      wake_.Notify();
    }
  }
  if (run_here) std::move(run_here)();
}

void Dispatcher::Work(uint64_t token) {
  MutexLock lock(&mu_);
  while (token == token_) {
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      if (shutdown_) break;
      wake_.Wait(mu_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return head_ < queue_.size() || shutdown_ || token != token_;
      });
      continue;
    }
    absl::AnyInvocable<void()&&> next = std::move(queue_[head_++]);
    const int64_t started = absl::ToUnixNanos(MonoNow());
    busy_since_ns_.store(started, std::memory_order_release);
    mu_.Unlock();
    timer_.RequestWake(this, absl::FromUnixNanos(started) + handoff_after_);
    std::move(next)();
    next = nullptr;
    mu_.Lock();
    if (token == token_) busy_since_ns_.store(0, std::memory_order_release);
  }
  if (token == token_) worker_running_ = false;
}

absl::Time Dispatcher::OnTimer(absl::Time now) {
  const int64_t busy_ns = busy_since_ns_.load(std::memory_order_acquire);
  threads_.ReapFinished();
  if (busy_ns == 0) return absl::InfiniteFuture();
  const absl::Time due = absl::FromUnixNanos(busy_ns) + handoff_after_;
  if (now < due) return due;
  MutexLock lock(&mu_);
  if (shutdown_ || busy_since_ns_.load(std::memory_order_acquire) != busy_ns) {
    return absl::InfiniteFuture();
  }
  // The blocked worker ends when its callback returns; a new one carries on.
  busy_since_ns_.store(0, std::memory_order_release);
  StartWorkerLocked();
  return absl::InfiniteFuture();
}

void Dispatcher::Shutdown() {
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    wake_.Notify();
  }
  threads_.JoinAll();
  // A worker handed off may have left callbacks queued behind it.
  while (true) {
    absl::AnyInvocable<void() &&> next;
    {
      MutexLock lock(&mu_);
      if (head_ == queue_.size()) {
        queue_.clear();
        head_ = 0;
        return;
      }
      next = std::move(queue_[head_++]);
    }
    std::move(next)();
  }
}

}  // namespace etcdgrpc::internal
