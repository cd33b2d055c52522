// One grpc::Channel per endpoint address, created on first use and dropped
// when no endpoint or call holds it any more. The resolver's scheduler polls
// the channels' connectivity, so that picks can skip endpoints in
// TRANSIENT_FAILURE without asking gRPC (which takes a lock) on every pick.
// Entries keep their pool alive, so a pick may outlive its balancer and the
// resolver; polls hold it only while they run.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;
using ::etcdgrpc::internal::Scheduler;

class ChannelPool;

struct ChannelEntry {
  ChannelEntry(std::string address, std::shared_ptr<ChannelPool> pool)
      : address(std::move(address)), pool(std::move(pool)) {}
  const std::string address;
  const std::shared_ptr<ChannelPool> pool;
  // Calls picked on this address and not done yet.
  std::atomic<int> in_flight{0};
  // Set by a call that failed UNAVAILABLE or a poll that saw
  // TRANSIENT_FAILURE; cleared when the channel is READY again.
  std::atomic<bool> failing{false};

  // The channel, created on the first call (later calls: one acquire load).
  const std::shared_ptr<grpc::Channel>& channel();
  bool has_channel() const { return created_.load(std::memory_order_acquire); }

 private:
  absl::once_flag once_;
  std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> created_{false};
};

class ChannelPool : public std::enable_shared_from_this<ChannelPool> {
 public:
  // Made with std::make_shared (entries share it).
  ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials,
              const grpc::ChannelArguments& arguments, absl::Duration poll_interval);

  // Polls `pool` every poll_interval on `scheduler` for as long as both
  // exist (a poll holds the pool only while it runs; the scheduler drops
  // the next one when it is shut down).
  static void StartPolling(const std::shared_ptr<ChannelPool>& pool, Scheduler* scheduler);

  // The entry for `address`, shared with every other holder of it.
  [[nodiscard]] std::shared_ptr<ChannelEntry> Get(const std::string& address);
  [[nodiscard]] std::shared_ptr<grpc::Channel> Create(const std::string& address);
  // Channels alive now (tests).
  [[nodiscard]] size_t size();

  // What the pool's channels are made with, for the balancing channels.
  [[nodiscard]] const std::shared_ptr<grpc::ChannelCredentials>& credentials() const {
    return credentials_;
  }
  [[nodiscard]] const grpc::ChannelArguments& arguments() const { return arguments_; }

 private:
  // One health poll.
  void Poll();

  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const grpc::ChannelArguments arguments_;
  const absl::Duration poll_interval_;
  Mutex mu_;
  std::map<std::string, std::weak_ptr<ChannelEntry>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::resolver::internal
