// Outlier ejection for one balancer (Envoy's semantics, OutlierEjection):
// per-endpoint outcome counters that picks and Done() touch without a lock,
// and the ejection arithmetic (runs of failures, failure rates per interval,
// growing and capped ejection times, the share cap) under a lock taken only
// when an endpoint crosses a threshold or an interval ends. Times are passed
// in (MonoNow() in the balancer, chosen instants in the unit tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/resolver/balancer.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

// One endpoint address of one balancer. Per balancer, not per channel: the
// options and the share cap belong to a balancer's set, and two balancers of
// one service may filter different sets.
struct OutlierState {
  explicit OutlierState(std::string address) : address(std::move(address)) {}
  const std::string address;
  // Read by picks, written only on ejection and unejection: a line of its
  // own, away from the counters every Done() writes. 0: not ejected; else
  // the end of the ejection, in MonoNow() nanoseconds.
  alignas(64) std::atomic<int64_t> ejected_until_ns{0};
  // A success costs one add here (and a load of the run).
  alignas(64) std::atomic<int64_t> calls{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int> consecutive_failures{0};
  // Guarded by the detector's lock: the counts at the last interval's end.
  int64_t calls_at_sweep = 0;
  int64_t failures_at_sweep = 0;
  int multiplier = 0;
  int ejections = 0;
  // The end of the last ejection (MonoNow() nanoseconds; 0: never ejected):
  // the multiplier decays from there, not from the last sweep.
  int64_t ejection_end_ns = 0;
  bool member = true;
  // Ejections (a null handle when metrics are off); set by StateFor.
  Counter ejected;
};

class OutlierDetector {
 public:
  OutlierDetector(const OutlierEjection& options, absl::Time now);

  // The state of `address` (the same one while the address stays in the
  // set). Then Retain() with the new set's addresses.
  // `ejected` counts its ejections (given when the state is made).
  [[nodiscard]] std::shared_ptr<OutlierState> StateFor(const std::string& address,
                                                       Counter ejected = {});
  // The set is now these addresses: others' states are dropped (a state
  // still held by a pick is no longer counted nor ejected).
  void Retain(const std::vector<std::string>& addresses);

  // One call's outcome, the one place with the rule (PickResult::Done comes
  // here): a listed code is a failure, CANCELLED (unless listed) is nothing
  // (the caller gave up: a losing hedge, a pick the call helper did not
  // use), any other code a success. A failure ejects at the end of a run of
  // them, and ends the interval when it is due (successes alone never need
  // to: an interval without failures ejects nobody, and the decay of
  // multipliers catches up with the intervals that passed). `now` is called
  // for a failure only: a success reads no clock.
  void Record(OutlierState& state, grpc::StatusCode code, absl::FunctionRef<absl::Time()> now) {
    if (IsFailure(code)) {
      RecordFailure(state, now());
    } else if (code != grpc::StatusCode::CANCELLED) {
      RecordSuccess(state);
    }
  }
  static void RecordSuccess(OutlierState& state) {
    state.calls.fetch_add(1, std::memory_order_relaxed);
    // Only a failing endpoint's run is written on success.
    if (state.consecutive_failures.load(std::memory_order_relaxed) != 0) {
      state.consecutive_failures.store(0, std::memory_order_relaxed);
    }
  }
  void RecordFailure(OutlierState& state, absl::Time now);
  // Whether picks skip `state` at `now`; ends its ejection when its time is
  // up. Lock-free; reads the clock only for an ejected endpoint.
  static bool Ejected(OutlierState& state, absl::Time now);
  static bool MaybeEjected(const OutlierState& state) {
    return state.ejected_until_ns.load(std::memory_order_acquire) != 0;
  }
  // Ends the interval if it is due at `now`: failure rates, multiplier
  // decay, ended ejections. Record() calls it.
  void MaybeSweep(absl::Time now);

  // The multiplier and ejection count of `state` (stats).
  void Counts(const OutlierState& state, int& multiplier, int& ejections);
  bool IsFailure(grpc::StatusCode code) const {
    const auto bit = static_cast<unsigned>(code);
    return bit < 32 && (failure_mask_ >> bit & 1U) != 0;
  }

 private:
  // Ejects `state` unless the share cap forbids it.
  bool EjectLocked(OutlierState& state, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `intervals`: how many intervals ended since the last sweep.
  void SweepLocked(absl::Time now, int64_t intervals) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OutlierEjection options_;
  uint32_t failure_mask_ = 0;
  // The end of the current interval, in MonoNow() nanoseconds.
  std::atomic<int64_t> next_sweep_ns_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<OutlierState>> members_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::resolver::internal
