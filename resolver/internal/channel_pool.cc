#include "internal/channel_pool.h"

#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"

namespace etcdgrpc::resolver::internal {

const std::shared_ptr<grpc::Channel>& ChannelEntry::channel() {
  if (!created_.load(std::memory_order_acquire)) {
    absl::call_once(once_, [this] {
      channel_ = pool->Create(address);
      created_.store(true, std::memory_order_release);
    });
  }
  return channel_;
}

ChannelPool::ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials,
                         grpc::ChannelArguments arguments, absl::Duration poll_interval,
                         Scheduler* scheduler)
    : credentials_(std::move(credentials)),
      arguments_(std::move(arguments)),
      poll_interval_(poll_interval),
      scheduler_(scheduler) {
  scheduler_->RunAfter(poll_interval_, [this] { Poll(); });
}

std::shared_ptr<ChannelEntry> ChannelPool::Get(const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::weak_ptr<ChannelEntry>& weak = entries_[address];
  if (std::shared_ptr<ChannelEntry> entry = weak.lock()) return entry;
  auto entry = std::make_shared<ChannelEntry>(address, this);
  weak = entry;
  return entry;
}

std::shared_ptr<grpc::Channel> ChannelPool::Create(const std::string& address) {
  grpc::ChannelArguments arguments = arguments_;
  return grpc::CreateCustomChannel(address, credentials_, arguments);
}

size_t ChannelPool::size() {
  absl::MutexLock lock(&mu_);
  size_t alive = 0;
  for (const auto& [address, weak] : entries_) {
    if (std::shared_ptr<ChannelEntry> entry = weak.lock(); entry && entry->has_channel()) ++alive;
  }
  return alive;
}

void ChannelPool::Poll() {
  std::vector<std::shared_ptr<ChannelEntry>> live;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (std::shared_ptr<ChannelEntry> entry = it->second.lock()) {
        if (entry->has_channel()) live.push_back(std::move(entry));
        ++it;
      } else {
        it = entries_.erase(it);  // the endpoint left and no call holds it
      }
    }
  }
  for (const auto& entry : live) {
    // A failing channel is nudged to reconnect, so that it can recover
    // although picks skip it.
    const bool failing = entry->failing.load(std::memory_order_relaxed);
    const grpc_connectivity_state state = entry->channel()->GetState(failing);
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      entry->failing.store(true, std::memory_order_relaxed);
    } else if (state == GRPC_CHANNEL_READY) {
      entry->failing.store(false, std::memory_order_relaxed);
    }
  }
  live.clear();
  scheduler_->RunAfter(poll_interval_, [this] { Poll(); });
}

}  // namespace etcdgrpc::resolver::internal
