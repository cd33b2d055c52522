// RunSyncCall (call_engine.h): a balanced call on the calling thread. Pick,
// attempt with the stub's blocking method, Done, back off, retry elsewhere.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "etcdgrpc/resolver/call_engine.h"
#include "resolver/internal/call_rules.h"

namespace etcdgrpc::resolver::call_engine {
namespace {

using ::etcdgrpc::internal::MonoNow;

// How often a call with no endpoint to pick looks again: Balancer::Pick
// would wait BalancerOptions::wait_for_endpoints, which may be longer than
// the call's overall deadline.
constexpr absl::Duration kEndpointPoll = absl::Milliseconds(5);

// A pick avoiding `tried`, polling while the balancer has no endpoint;
// nullopt once `deadline` has passed without one.
std::optional<PickResult> PickBefore(Balancer& balancer, const std::vector<std::string>& tried,
                                     absl::Time deadline) {
  while (true) {
    if (std::optional<PickResult> pick = PickAvoiding(balancer, tried)) return pick;
    const absl::Duration left = deadline - MonoNow();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    absl::SleepFor(std::min(kEndpointPoll, left));
  }
}

// Picks, attempts, reports Done and retries until the call is decided.
CallResult RunSyncAttempts(Balancer& balancer, const CallPolicy& policy, const std::string& method,
                           SyncAttempt attempt) {
  CallResult result;
  if (absl::Status valid = ValidateCallPolicy(policy); !valid.ok()) {
    result.status = std::move(valid);
    return result;
  }
  const absl::Time deadline = OverallDeadline(policy);
  // Made on the first retry: seeding a generator costs more than a call's
  // bookkeeping.
  std::optional<absl::BitGen> random;
  for (int attempt_number = 1;; ++attempt_number) {
    std::optional<PickResult> pick = PickBefore(balancer, result.tried, deadline);
    if (!pick.has_value()) {
      result.status = NoEndpointStatus(method, policy, result.attempts);
      return result;
    }
    result.attempts = attempt_number;
    result.tried.push_back(pick->endpoint().address());
    grpc::ClientContext context;
    const bool cut_short = SetAttemptDeadline(context, policy, deadline);
    grpc::Status status = attempt(pick->channel(), &context);
    pick->Done(OutcomeForBalancer(status, cut_short));
    result.endpoint = pick->endpoint().address();
    if (status.ok()) {
      result.status = absl::OkStatus();
      result.grpc_status = std::move(status);
      return result;
    }
    absl::string_view why_stopped;
    std::string out_of_time;
    if (IsRetryable(status, policy) && attempt_number < policy.retry.max_attempts) {
      if (!random.has_value()) random.emplace();
      const absl::Duration delay =
          ::etcdgrpc::internal::Backoff::Delay(policy.retry.backoff, attempt_number - 1, *random);
      if (MonoNow() + delay < deadline) {
        absl::SleepFor(delay);
        continue;
      }
      out_of_time = OutOfTime(policy);
      why_stopped = out_of_time;
    }
    result.status = FinalStatus(status, method, result.endpoint, attempt_number, policy,
                                result.tried, why_stopped);
    result.grpc_status = std::move(status);
    return result;
  }
}

}  // namespace

CallResult RunSyncCall(Balancer& balancer, const CallPolicy& policy, const std::string& method,
                       SyncAttempt attempt) {
  CallResult result = RunSyncAttempts(balancer, policy, method, attempt);
  internal::RecordBalancedCall(balancer, result.attempts);
  return result;
}

}  // namespace etcdgrpc::resolver::call_engine
