#include "etcdgrpc/resolver/balancer.h"

#include <utility>

#include "common/clock.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/channel_pool.h"

namespace etcdgrpc::resolver {

PickResult::PickResult(std::shared_ptr<const internal::PickSlot> slot, bool counts_in_flight)
    : slot_(std::move(slot)),
      endpoint_(slot_->endpoint.get()),
      entry_(slot_->channel.get()),
      counts_in_flight_(counts_in_flight) {
  if (counts_in_flight_) entry_->in_flight.fetch_add(1, std::memory_order_relaxed);
  slot_->picks.Increment();
}

PickResult::PickResult(PickResult&& other) noexcept
    : slot_(std::move(other.slot_)),
      endpoint_(other.endpoint_),
      entry_(other.entry_),
      counts_in_flight_(other.counts_in_flight_),
      done_(other.done_) {
  other.done_ = true;
  other.endpoint_ = nullptr;
  other.entry_ = nullptr;
}

PickResult& PickResult::operator=(PickResult&& other) noexcept {
  if (this != &other) {
    Finish(nullptr);
    slot_ = std::move(other.slot_);
    endpoint_ = other.endpoint_;
    entry_ = other.entry_;
    counts_in_flight_ = other.counts_in_flight_;
    done_ = other.done_;
    other.done_ = true;
    other.endpoint_ = nullptr;
    other.entry_ = nullptr;
  }
  return *this;
}

PickResult::~PickResult() { Finish(nullptr); }

std::shared_ptr<grpc::Channel> PickResult::channel() const { return entry_->channel(); }

void PickResult::Done(const grpc::Status& status) { Finish(&status); }

void PickResult::Finish(const grpc::Status* status) {
  if (done_ || entry_ == nullptr) return;
  done_ = true;
  if (counts_in_flight_) entry_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  // A pick dropped without Done() had no outcome to count.
  if (status == nullptr) return;
  // The channel's poller clears this once the channel is READY again.
  if (status->error_code() == grpc::StatusCode::UNAVAILABLE) {
    entry_->failing.store(true, std::memory_order_relaxed);
  }
  if (internal::OutlierState* state = slot_->outlier.get()) {
    slot_->detector->Record(*state, status->error_code(), &::etcdgrpc::internal::MonoNow);
  }
}

Balancer::Balancer(std::shared_ptr<internal::BalancerCore> core) : core_(std::move(core)) {}
Balancer::~Balancer() = default;

absl::StatusOr<PickResult> Balancer::Pick() { return core_->Pick(); }

std::optional<PickResult> internal::PickNow(Balancer& balancer) {
  return balancer.core_->TryPick();
}

void internal::RecordBalancedCall(Balancer& balancer, int attempts) {
  const internal::BalancedCallMetrics& metrics = balancer.core_->call_metrics();
  metrics.calls.Increment();
  if (attempts <= 0) return;  // no endpoint was ever picked
  metrics.attempts.Increment(static_cast<uint64_t>(attempts));
  metrics.retries.Increment(static_cast<uint64_t>(attempts - 1));
}

size_t Balancer::eligible() const { return core_->eligible(); }

std::vector<EndpointStats> Balancer::endpoint_stats() const { return core_->endpoint_stats(); }

}  // namespace etcdgrpc::resolver
