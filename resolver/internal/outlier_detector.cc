#include "resolver/internal/outlier_detector.h"

#include <algorithm>
#include <cmath>

namespace etcdgrpc::resolver::internal {
namespace {

int64_t Nanos(absl::Time t) { return absl::ToUnixNanos(t); }

}  // namespace

OutlierDetector::OutlierDetector(const OutlierEjection& options, absl::Time now)
    : options_(options), next_sweep_ns_(Nanos(now + options.interval)) {
  for (grpc::StatusCode code : options_.failure_codes) {
    const auto bit = static_cast<unsigned>(code);
    if (bit < 32) failure_mask_ |= 1U << bit;
  }
}

std::shared_ptr<OutlierState> OutlierDetector::StateFor(const std::string& address,
                                                        Counter ejected) {
  MutexLock lock(&mu_);
  std::shared_ptr<OutlierState>& state = members_[address];
  if (state == nullptr) {
    state = std::make_shared<OutlierState>(address);
    state->ejected = ejected;
  }
  return state;
}

void OutlierDetector::Retain(const std::vector<std::string>& addresses) {
  MutexLock lock(&mu_);
  for (auto it = members_.begin(); it != members_.end();) {
    if (std::find(addresses.begin(), addresses.end(), it->first) == addresses.end()) {
      // Envoy forgets a host that leaves; one that comes back starts afresh.
      it->second->member = false;
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
}

bool OutlierDetector::Ejected(OutlierState& state, absl::Time now) {
  int64_t until = state.ejected_until_ns.load(std::memory_order_acquire);
  if (until == 0) return false;
  if (Nanos(now) < until) return true;
  // Time is up. Only this ejection is ended: a newer one (another `until`)
  // stays.
  state.ejected_until_ns.compare_exchange_strong(until, 0, std::memory_order_acq_rel);
  return false;
}

void OutlierDetector::RecordFailure(OutlierState& state, absl::Time now) {
  state.calls.fetch_add(1, std::memory_order_relaxed);
  state.failures.fetch_add(1, std::memory_order_relaxed);
  // Calls that were in flight when it was ejected do not start the next
  // run: the endpoint gets a fresh run once it is back.
  if (!Ejected(state, now)) {
    const int run = state.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
    if (options_.consecutive_failures > 0 && run >= options_.consecutive_failures) {
      MutexLock lock(&mu_);
      if (state.member && !Ejected(state, now) && EjectLocked(state, now)) {
        state.consecutive_failures.store(0, std::memory_order_relaxed);
      }
    }
  }
  MaybeSweep(now);
}

void OutlierDetector::MaybeSweep(absl::Time now) {
  int64_t due = next_sweep_ns_.load(std::memory_order_relaxed);
  if (Nanos(now) < due) return;
  // One caller runs the sweep; the others go on.
  if (!next_sweep_ns_.compare_exchange_strong(due, Nanos(now + options_.interval),
                                              std::memory_order_relaxed)) {
    return;
  }
  const int64_t intervals = 1 + (Nanos(now) - due) / absl::ToInt64Nanoseconds(options_.interval);
  MutexLock lock(&mu_);
  SweepLocked(now, intervals);
}

void OutlierDetector::SweepLocked(absl::Time now, int64_t intervals) {
  const int64_t interval_ns = absl::ToInt64Nanoseconds(options_.interval);
  for (auto& [address, state] : members_) {
    const bool ejected = Ejected(*state, now);  // also ends ejections whose time is up
    // The multiplier decays by one per interval the endpoint spends not
    // ejected (gRPC's A50, Envoy's decrease of the ejection time): the
    // intervals since its ejection ended, no more than those since the last
    // sweep. Intervals spent ejected do not count.
    if (!ejected && state->multiplier > 0) {
      const int64_t behaved = (Nanos(now) - state->ejection_end_ns) / interval_ns;
      const int64_t decay = std::min({intervals, behaved, int64_t{1} << 20});
      state->multiplier = static_cast<int>(std::max<int64_t>(0, state->multiplier - decay));
    }
  }
  const bool by_rate = options_.failure_rate_threshold > 0;
  for (auto& [address, state] : members_) {
    const int64_t total_calls = state->calls.load(std::memory_order_relaxed);
    const int64_t total_failures = state->failures.load(std::memory_order_relaxed);
    const int64_t calls = total_calls - state->calls_at_sweep;
    const int64_t failures = total_failures - state->failures_at_sweep;
    state->calls_at_sweep = total_calls;
    state->failures_at_sweep = total_failures;
    if (!by_rate || calls < std::max(1, options_.failure_rate_minimum_calls)) continue;
    if (static_cast<double>(failures) <
        options_.failure_rate_threshold * static_cast<double>(calls)) {
      continue;
    }
    if (!Ejected(*state, now)) (void)EjectLocked(*state, now);
  }
}

bool OutlierDetector::EjectLocked(OutlierState& state, absl::Time now) {
  size_t ejected = 0;
  for (auto& [address, member] : members_) {
    if (Ejected(*member, now)) ++ejected;
  }
  // Never more than the share: floor(share x n), so one endpoint alone is
  // never ejected (picks would fall back to it anyway).
  const auto allowed = static_cast<size_t>(
      std::floor(options_.max_ejected_share * static_cast<double>(members_.size()) + 1e-9));
  if (ejected + 1 > allowed) return false;
  state.multiplier = std::min(state.multiplier + 1, 1 << 20);
  ++state.ejections;
  state.ejected.Increment();
  const absl::Duration cap = std::max(options_.max_ejection_time, options_.base_ejection_time);
  const absl::Duration duration = std::min(options_.base_ejection_time * state.multiplier, cap);
  state.ejection_end_ns = Nanos(now + duration);
  state.ejected_until_ns.store(state.ejection_end_ns, std::memory_order_release);
  return true;
}

void OutlierDetector::Counts(const OutlierState& state, int& multiplier, int& ejections) {
  MutexLock lock(&mu_);
  multiplier = state.multiplier;
  ejections = state.ejections;
}

}  // namespace etcdgrpc::resolver::internal
