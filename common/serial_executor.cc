#include "common/serial_executor.h"

#include <utility>

namespace etcdgrpc::internal {

void SerialExecutor::Run(absl::AnyInvocable<void() &&> fn) {
  if (Post(std::move(fn))) Drain();
}

bool SerialExecutor::Post(absl::AnyInvocable<void() &&> fn) {
  MutexLock lock(&mu_);
  if (stopped_) return false;
  queue_.push_back(std::move(fn));
  if (draining_) return false;  // the draining thread will run it, in order
  draining_ = true;
  drain_thread_ = std::this_thread::get_id();
  return true;
}

void SerialExecutor::Drain() {
  MutexLock lock(&mu_);
  // Post() may have run on another thread (the timer's) than this one.
  drain_thread_ = std::this_thread::get_id();
  while (head_ < queue_.size() && !stopped_) {
    absl::AnyInvocable<void() &&> next = std::move(queue_[head_++]);
    mu_.Unlock();
    std::move(next)();
    next = nullptr;  // release its captures outside the lock
    mu_.Lock();
  }
  queue_.clear();
  head_ = 0;
  draining_ = false;
  drain_thread_ = std::thread::id();
  drained_.Notify();
}

void SerialExecutor::Stop() {
  MutexLock lock(&mu_);
  stopped_ = true;
  queue_.clear();
  head_ = 0;
  if (draining_ && drain_thread_ == std::this_thread::get_id()) return;
  drained_.Wait(mu_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !draining_; });
}

bool SerialExecutor::stopped() const {
  MutexLock lock(&mu_);
  return stopped_;
}

}  // namespace etcdgrpc::internal
