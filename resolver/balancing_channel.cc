// The public handle of a balancing channel; the work is in ChannelCore.
#include "etcdgrpc/resolver/balancing_channel.h"

#include <utility>

#include "resolver/internal/channel_core.h"

namespace etcdgrpc::resolver {

BalancingChannel::BalancingChannel(std::shared_ptr<internal::ChannelCore> core)
    : core_(std::move(core)) {}
BalancingChannel::~BalancingChannel() = default;

std::shared_ptr<grpc::Channel> BalancingChannel::get() const { return core_->get(); }
const std::string& BalancingChannel::service() const { return core_->service(); }
absl::Status BalancingChannel::status() const { return core_->status(); }
std::string BalancingChannel::target() const { return core_->target(); }
absl::Status BalancingChannel::WaitForEndpoints(absl::Duration timeout) const {
  return core_->WaitForEndpoints(timeout);
}
BalancingChannelStats BalancingChannel::stats() const { return core_->stats(); }

}  // namespace etcdgrpc::resolver
