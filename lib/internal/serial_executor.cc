#include "internal/serial_executor.h"

#include <utility>

namespace etcdgrpc::internal {

void SerialExecutor::Run(absl::AnyInvocable<void() &&> fn) {
  MutexLock lock(&mu_);
  if (stopped_) return;
  if (draining_) {
    queue_.push_back(std::move(fn));  // the draining thread will run it, in order
    return;
  }
  draining_ = true;
  drain_thread_ = std::this_thread::get_id();
  absl::AnyInvocable<void() &&> next = std::move(fn);
  while (true) {
    mu_.Unlock();
    std::move(next)();
    next = nullptr;  // release its captures outside the lock
    mu_.Lock();
    if (stopped_ || head_ >= queue_.size()) break;
    next = std::move(queue_[head_++]);
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
