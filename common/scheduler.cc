#include "common/scheduler.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"

namespace etcdgrpc::internal {

void Scheduler::StartLocked() {
  if (state_->started) return;
  state_->started = true;
  thread_ = std::thread([state = state_] { Run(state); });
}

void Scheduler::State::WakeLocked(absl::Time when) {
  if (when < sleeping_until) {
    kicked = true;
    wake.Notify();
  }
}

void Scheduler::Add(Slot* slot) {
  MutexLock lock(&state_->mu);
  if (state_->shutdown) return;
  state_->slots.push_back(SlotEntry{slot, absl::InfiniteFuture()});
  StartLocked();
}

void Scheduler::RequestWake(Slot* slot, absl::Time when) {
  MutexLock lock(&state_->mu);
  for (SlotEntry& entry : state_->slots) {
    if (entry.slot != slot) continue;
    if (when >= entry.next) return;
    entry.next = when;
    state_->WakeLocked(when);
    return;
  }
}

void Scheduler::PostAt(absl::Time when, Task task) {
  {
    MutexLock lock(&state_->mu);
    if (!state_->shutdown) {
      StartLocked();
      state_->tasks.emplace(when, std::move(task));
      state_->WakeLocked(when);
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
    MutexLock lock(&state_->mu);
    state_->shutdown = true;
    left.swap(state_->tasks);
    state_->wake.Notify();
  }
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // it leaves Run() once this call returns, on its own State
    } else {
      thread_.join();
    }
  }
  left.clear();
}

void Scheduler::Run(const std::shared_ptr<State>& state) {
  State& s = *state;
  MutexLock lock(&s.mu);
  while (!s.shutdown) {
    absl::Time wake = s.tasks.empty() ? absl::InfiniteFuture() : s.tasks.begin()->first;
    for (const SlotEntry& entry : s.slots) wake = std::min(wake, entry.next);
    s.sleeping_until = wake;
    s.wake.WaitUntil(s.mu, wake,
                     [&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.kicked || s.shutdown; });
    s.sleeping_until = absl::InfinitePast();
    s.kicked = false;
    const absl::Time now = MonoNow();
    while (!s.shutdown && !s.tasks.empty() && s.tasks.begin()->first <= now) {
      Task task = std::move(s.tasks.begin()->second);
      s.tasks.erase(s.tasks.begin());
      s.mu.Unlock();
      std::move(task)();
      task = nullptr;  // its captures die outside the lock
      s.mu.Lock();
    }
    // Every due slot; slots may be added meanwhile, so go by index.
    for (size_t i = 0; i < s.slots.size() && !s.shutdown; ++i) {
      const absl::Time slot_now = MonoNow();
      if (s.slots[i].next > slot_now) continue;
      Slot* slot = s.slots[i].slot;
      s.slots[i].next = absl::InfiniteFuture();
      s.mu.Unlock();
      const absl::Time next = slot->OnTimer(slot_now);
      s.mu.Lock();
      // A RequestWake() during OnTimer() may have asked for an earlier time.
      s.slots[i].next = std::min(s.slots[i].next, next);
    }
  }
}

}  // namespace etcdgrpc::internal
