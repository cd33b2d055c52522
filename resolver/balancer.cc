#include "etcdgrpc/resolver/balancer.h"

#include <utility>

#include "internal/balancer_core.h"
#include "internal/channel_pool.h"

namespace etcdgrpc::resolver {

PickResult::PickResult(std::shared_ptr<const Endpoint> endpoint,
                       std::shared_ptr<internal::ChannelEntry> channel, bool counts_in_flight)
    : endpoint_(std::move(endpoint)),
      entry_(std::move(channel)),
      counts_in_flight_(counts_in_flight) {
  if (counts_in_flight_) entry_->in_flight.fetch_add(1, std::memory_order_relaxed);
}

PickResult::PickResult(PickResult&& other) noexcept
    : endpoint_(std::move(other.endpoint_)),
      entry_(std::move(other.entry_)),
      counts_in_flight_(other.counts_in_flight_),
      done_(other.done_) {
  other.done_ = true;
}

PickResult& PickResult::operator=(PickResult&& other) noexcept {
  if (this != &other) {
    Done(grpc::Status::OK);
    endpoint_ = std::move(other.endpoint_);
    entry_ = std::move(other.entry_);
    counts_in_flight_ = other.counts_in_flight_;
    done_ = other.done_;
    other.done_ = true;
  }
  return *this;
}

PickResult::~PickResult() { Done(grpc::Status::OK); }

std::shared_ptr<grpc::Channel> PickResult::channel() const { return entry_->channel(); }

void PickResult::Done(const grpc::Status& status) {
  if (done_ || entry_ == nullptr) return;
  done_ = true;
  if (counts_in_flight_) entry_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  // The channel's poller clears this once the channel is READY again.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    entry_->failing.store(true, std::memory_order_relaxed);
  }
}

Balancer::Balancer(std::shared_ptr<internal::BalancerCore> core) : core_(std::move(core)) {}
Balancer::~Balancer() = default;

absl::StatusOr<PickResult> Balancer::Pick() { return core_->Pick(); }

size_t Balancer::eligible() const { return core_->eligible(); }

}  // namespace etcdgrpc::resolver
