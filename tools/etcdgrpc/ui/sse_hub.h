// Server-sent events fan-out for the `ui` page: each connected browser has a
// bounded queue, so a slow or gone browser is dropped instead of blocking the
// resolver's listener thread that publishes.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/mutex.h"

namespace etcdgrpc::cli::ui {

// One SSE frame: `event: NAME` and the data, which must not contain a newline
// (compact JSON never does).
[[nodiscard]] std::string SseFrame(std::string_view event, std::string_view data);

struct SseHubOptions {
  // Frames waiting for one browser; one more and that browser is dropped (its
  // EventSource reconnects and gets the whole state again).
  size_t max_queued = 256;
  // Browsers connected at once; more are refused (each holds an HTTP thread).
  size_t max_clients = 16;
};

class SseHub;

// One connected browser's stream, read by its HTTP thread.
class SseSubscriber {
 public:
  enum class Next { kFrame, kIdle, kEnded };
  // Waits up to `wait` for a frame (kFrame, in *frame), nothing (kIdle) or the
  // end: dropped for falling behind, or the hub closed (kEnded).
  [[nodiscard]] Next Pop(absl::Duration wait, std::string* frame);

 private:
  friend class SseHub;
  internal::Mutex mu_;
  internal::CondVar changed_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

class SseHub {
 public:
  explicit SseHub(SseHubOptions options = {}) : options_(options) {}

  // A new subscriber whose first frame is `first`; nullptr when max_clients
  // are connected or the hub is closed.
  [[nodiscard]] std::shared_ptr<SseSubscriber> Join(std::string first);
  void Leave(const std::shared_ptr<SseSubscriber>& subscriber);
  // Queues `frame` for every subscriber without blocking; a subscriber whose
  // queue is full is ended and forgotten.
  void Publish(const std::string& frame);
  // Ends every stream and refuses new ones (before the HTTP server stops).
  void Close();

  [[nodiscard]] size_t subscribers() const;
  // Subscribers dropped for falling behind, since the start.
  [[nodiscard]] size_t dropped() const;

 private:
  const SseHubOptions options_;
  mutable internal::Mutex mu_;
  std::vector<std::shared_ptr<SseSubscriber>> subscribers_ ABSL_GUARDED_BY(mu_);
  size_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcdgrpc::cli::ui
