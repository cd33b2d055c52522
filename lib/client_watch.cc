// Client's Watch calls and the WatchHandle.
#include <utility>

#include "etcdgrpc/client.h"
#include "lib/internal/watch_stream.h"

namespace etcdgrpc {

absl::StatusOr<WatchHandle> Client::Watch(WatchRequest request, WatchListener* listener) {
  absl::StatusOr<std::shared_ptr<internal::WatchState>> state =
      watch_stream_->Watch(std::move(request), listener);
  if (!state.ok()) return state.status();
  return WatchHandle(watch_stream_, *std::move(state));
}

absl::Status Client::RequestProgress() { return watch_stream_->RequestProgress(); }

WatchHandle::WatchHandle(std::shared_ptr<internal::WatchStream> stream,
                         std::shared_ptr<internal::WatchState> state)
    : stream_(std::move(stream)), state_(std::move(state)) {}

WatchHandle::WatchHandle(WatchHandle&& other) noexcept
    : stream_(std::move(other.stream_)), state_(std::move(other.state_)) {}

WatchHandle& WatchHandle::operator=(WatchHandle&& other) noexcept {
  if (this != &other) {
    Cancel();
    stream_ = std::move(other.stream_);
    state_ = std::move(other.state_);
  }
  return *this;
}

WatchHandle::~WatchHandle() { Cancel(); }

void WatchHandle::Cancel() {
  if (state_ == nullptr) return;
  stream_->Cancel(state_);
  state_.reset();
  stream_.reset();
}

int64_t WatchHandle::id() const { return state_ ? state_->id : 0; }

int64_t WatchHandle::next_revision() const {
  return state_ ? state_->next_revision_seen.load(std::memory_order_relaxed) : 0;
}

}  // namespace etcdgrpc
