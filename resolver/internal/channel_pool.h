// One grpc::Channel per endpoint address, created on first use and dropped
// when no endpoint or call holds it any more. The resolver's scheduler polls
// the channels' connectivity, so that picks can skip endpoints in
// TRANSIENT_FAILURE without asking gRPC (which takes a lock) on every pick.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "internal/scheduler.h"

namespace etcdgrpc::resolver::internal {

class ChannelPool;

struct ChannelEntry {
  ChannelEntry(std::string address, ChannelPool* pool) : address(std::move(address)), pool(pool) {}
  const std::string address;
  ChannelPool* const pool;
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

class ChannelPool {
 public:
  // Polls every `poll_interval` on `scheduler`, which must outlive the pool's
  // polls (the Resolver owns both and stops the scheduler first).
  ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials,
              grpc::ChannelArguments arguments, absl::Duration poll_interval, Scheduler* scheduler);

  // The entry for `address`, shared with every other holder of it.
  [[nodiscard]] std::shared_ptr<ChannelEntry> Get(const std::string& address);
  [[nodiscard]] std::shared_ptr<grpc::Channel> Create(const std::string& address);
  // Channels alive now (tests).
  [[nodiscard]] size_t size();

 private:
  // One health poll; reschedules itself.
  void Poll();

  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const grpc::ChannelArguments arguments_;
  const absl::Duration poll_interval_;
  absl::Mutex mu_;
  std::map<std::string, std::weak_ptr<ChannelEntry>> entries_ ABSL_GUARDED_BY(mu_);
  Scheduler* const scheduler_;
};

}  // namespace etcdgrpc::resolver::internal
