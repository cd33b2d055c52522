#include "resolver/internal/channel_pool.h"

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
                         const grpc::ChannelArguments& arguments, absl::Duration poll_interval)
    : credentials_(std::move(credentials)), arguments_(arguments), poll_interval_(poll_interval) {}

void ChannelPool::StartPolling(const std::shared_ptr<ChannelPool>& pool, Scheduler* scheduler) {
  // The task runs on the scheduler's thread, so the scheduler exists while it
  // runs; the pool may be gone (the resolver and every balancer and pick
  // dropped): polling then ends.
  struct Poller {
    std::weak_ptr<ChannelPool> pool;
    Scheduler* scheduler;
    absl::Duration interval;
    void operator()() const {
      std::shared_ptr<ChannelPool> alive = pool.lock();
      if (alive == nullptr) return;
      alive->Poll();
      alive.reset();
      scheduler->PostAfter(interval, *this);
    }
  };
  scheduler->PostAfter(pool->poll_interval_, Poller{pool, scheduler, pool->poll_interval_});
}

std::shared_ptr<ChannelEntry> ChannelPool::Get(const std::string& address) {
  MutexLock lock(&mu_);
  std::weak_ptr<ChannelEntry>& weak = entries_[address];
  if (std::shared_ptr<ChannelEntry> entry = weak.lock()) return entry;
  auto entry = std::make_shared<ChannelEntry>(address, shared_from_this());
  weak = entry;
  return entry;
}

std::shared_ptr<grpc::Channel> ChannelPool::Create(const std::string& address) {
  grpc::ChannelArguments arguments = arguments_;
  return grpc::CreateCustomChannel(address, credentials_, arguments);
}

size_t ChannelPool::size() {
  MutexLock lock(&mu_);
  size_t alive = 0;
  for (const auto& [address, weak] : entries_) {
    if (std::shared_ptr<ChannelEntry> entry = weak.lock(); entry && entry->has_channel()) ++alive;
  }
  return alive;
}

void ChannelPool::Poll() {
  std::vector<std::shared_ptr<ChannelEntry>> live;
  {
    MutexLock lock(&mu_);
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
}

}  // namespace etcdgrpc::resolver::internal
