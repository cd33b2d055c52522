#include "common/scheduler.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"

namespace etcdgrpc::internal {

void Scheduler::StartLocked() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Scheduler::WakeLocked(absl::Time when) {
  if (when < sleeping_until_) {
    kicked_ = true;
    wake_.Notify();
  }
}

void Scheduler::Add(Slot* slot) {
  MutexLock lock(&mu_);
  if (shutdown_) return;
  slots_.push_back(SlotEntry{slot, absl::InfiniteFuture()});
  StartLocked();
}

void Scheduler::RequestWake(Slot* slot, absl::Time when) {
  MutexLock lock(&mu_);
  for (SlotEntry& entry : slots_) {
    if (entry.slot != slot) continue;
    if (when >= entry.next) return;
    entry.next = when;
    WakeLocked(when);
    return;
  }
}

void Scheduler::PostAt(absl::Time when, Task task) {
  {
    MutexLock lock(&mu_);
    if (!shutdown_) {
      StartLocked();
      tasks_.emplace(when, std::move(task));
      WakeLocked(when);
      return;
    }
  }
  // Dropped: destroyed here, outside the lock, since its captures may post.
  task = nullptr;
}

void Scheduler::PostAfter(absl::Duration delay, Task task) {
  PostAt(MonoNow() + delay, std::move(task));
}

void Scheduler::Shutdown() {
  std::multimap<absl::Time, Task> left;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    left.swap(tasks_);
    wake_.Notify();
  }
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // it returns from Run() once this call does
    } else {
      thread_.join();
    }
  }
  left.clear();
}

void Scheduler::Run() {
  MutexLock lock(&mu_);
  while (!shutdown_) {
    absl::Time wake = tasks_.empty() ? absl::InfiniteFuture() : tasks_.begin()->first;
    for (const SlotEntry& entry : slots_) wake = std::min(wake, entry.next);
    sleeping_until_ = wake;
    wake_.WaitUntil(mu_, wake,
                    [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return kicked_ || shutdown_; });
    sleeping_until_ = absl::InfinitePast();
    kicked_ = false;
    const absl::Time now = MonoNow();
    while (!shutdown_ && !tasks_.empty() && tasks_.begin()->first <= now) {
      Task task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
      mu_.Unlock();
      std::move(task)();
      task = nullptr;  // its captures die outside the lock
      mu_.Lock();
    }
    // Every due slot; slots may be added meanwhile, so go by index.
    for (size_t i = 0; i < slots_.size() && !shutdown_; ++i) {
      const absl::Time slot_now = MonoNow();
      if (slots_[i].next > slot_now) continue;
      Slot* slot = slots_[i].slot;
      slots_[i].next = absl::InfiniteFuture();
      mu_.Unlock();
      const absl::Time next = slot->OnTimer(slot_now);
      mu_.Lock();
      // A RequestWake() during OnTimer() may have asked for an earlier time.
      slots_[i].next = std::min(slots_[i].next, next);
    }
  }
}

}  // namespace etcdgrpc::internal
