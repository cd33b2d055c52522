#include "internal/timer.h"

#include <algorithm>

#include "internal/clock.h"

namespace etcdgrpc::internal {

void Timer::Add(Slot* slot) {
  MutexLock lock(&mu_);
  if (shutdown_) return;
  entries_.push_back(Entry{slot, absl::InfiniteFuture()});
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }
}

void Timer::RequestWake(Slot* slot, absl::Time when) {
  MutexLock lock(&mu_);
  for (Entry& entry : entries_) {
    if (entry.slot != slot) continue;
    if (when >= entry.next) return;
    entry.next = when;
    if (when < sleeping_until_) {
      kicked_ = true;
      wake_.Notify();
    }
    return;
  }
}

void Timer::Shutdown() {
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    wake_.Notify();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Timer::Run() {
  MutexLock lock(&mu_);
  while (!shutdown_) {
    absl::Time wake = absl::InfiniteFuture();
    for (const Entry& entry : entries_) wake = std::min(wake, entry.next);
    sleeping_until_ = wake;
    wake_.WaitUntil(mu_, wake,
                    [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return kicked_ || shutdown_; });
    sleeping_until_ = absl::InfinitePast();
    kicked_ = false;
    if (shutdown_) break;
    // Run every due slot; slots may be added meanwhile, so go by index.
    for (size_t i = 0; i < entries_.size() && !shutdown_; ++i) {
      const absl::Time now = MonoNow();
      if (entries_[i].next > now) continue;
      Slot* slot = entries_[i].slot;
      entries_[i].next = absl::InfiniteFuture();
      mu_.Unlock();
      const absl::Time next = slot->OnTimer(now);
      mu_.Lock();
      // A RequestWake() during OnTimer() may have asked for an earlier time.
      entries_[i].next = std::min(entries_[i].next, next);
    }
  }
}

}  // namespace etcdgrpc::internal
