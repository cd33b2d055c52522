// The `ui` page's server-sent events fan-out (see sse_hub.h).
#include "ui/sse_hub.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"

namespace etcdgrpc::cli::ui {

std::string SseFrame(std::string_view event, std::string_view data) {
  std::string frame = "event: ";
  frame.append(event).append("\ndata: ").append(data).append("\n\n");
  return frame;
}

SseSubscriber::Next SseSubscriber::Pop(absl::Duration wait, std::string* frame) {
  internal::MutexLock lock(&mu_);
  changed_.WaitUntil(mu_, internal::MonoNow() + wait,
                     [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return ended_ || !queue_.empty(); });
  // A dropped subscriber ends at once: what is queued no longer adds up to the state.
  if (ended_) return Next::kEnded;
  if (queue_.empty()) return Next::kIdle;
  *frame = std::move(queue_.front());
  queue_.pop_front();
  return Next::kFrame;
}

std::shared_ptr<SseSubscriber> SseHub::Join(std::string first) {
  auto subscriber = std::make_shared<SseSubscriber>();
  {
    internal::MutexLock sub_lock(&subscriber->mu_);
    subscriber->queue_.push_back(std::move(first));
  }
  internal::MutexLock lock(&mu_);
  if (closed_ || subscribers_.size() >= options_.max_clients) return nullptr;
  subscribers_.push_back(subscriber);
  return subscriber;
}

void SseHub::Leave(const std::shared_ptr<SseSubscriber>& subscriber) {
  internal::MutexLock lock(&mu_);
  std::erase(subscribers_, subscriber);
}

void SseHub::Publish(const std::string& frame) {
  internal::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<SseSubscriber>> kept;
  kept.reserve(subscribers_.size());
  for (std::shared_ptr<SseSubscriber>& subscriber : subscribers_) {
    internal::MutexLock sub_lock(&subscriber->mu_);
    if (subscriber->queue_.size() >= options_.max_queued) {
      subscriber->ended_ = true;
      subscriber->changed_.Notify();
      ++dropped_;
      continue;
    }
    subscriber->queue_.push_back(frame);
    subscriber->changed_.Notify();
    kept.push_back(std::move(subscriber));
  }
  subscribers_ = std::move(kept);
}

void SseHub::Close() {
  internal::MutexLock lock(&mu_);
  closed_ = true;
  for (const std::shared_ptr<SseSubscriber>& subscriber : subscribers_) {
    internal::MutexLock sub_lock(&subscriber->mu_);
    subscriber->ended_ = true;
    subscriber->changed_.Notify();
  }
  subscribers_.clear();
}

size_t SseHub::subscribers() const {
  internal::MutexLock lock(&mu_);
  return subscribers_.size();
}

size_t SseHub::dropped() const {
  internal::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace etcdgrpc::cli::ui
