// The rules both forms of a balanced call share (call_rules.h).
#include "resolver/internal/call_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"

namespace etcdgrpc::resolver::call_engine {
namespace {

bool Contains(const std::vector<std::string>& tried, const std::string& address) {
  return std::find(tried.begin(), tried.end(), address) != tried.end();
}

}  // namespace

bool NeverLeftClient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         absl::StrContains(status.error_message(), "failed to connect to all addresses");
}

bool IsRetryable(const grpc::Status& status, const CallPolicy& policy) {
  if (status.ok()) return false;
  const std::vector<grpc::StatusCode>& codes = policy.retry.retryable_codes;
  if (std::find(codes.begin(), codes.end(), status.error_code()) == codes.end()) return false;
  return policy.idempotent || NeverLeftClient(status);
}

grpc::Status NotUsedStatus() {
  return grpc::Status(grpc::StatusCode::CANCELLED, "not used by the call (balanced call)");
}

std::optional<PickResult> PickAvoiding(Balancer& balancer, const std::vector<std::string>& tried) {
  std::optional<PickResult> pick = internal::PickNow(balancer);
  if (!pick.has_value() || tried.empty() || !Contains(tried, pick->endpoint().address())) {
    return pick;
  }
  const size_t eligible = balancer.eligible();
  const std::set<std::string> distinct(tried.begin(), tried.end());
  if (distinct.size() >= eligible) return pick;  // every endpoint tried: take what comes
  // Round robin moves on with each pick; give the policy a few chances.
  const size_t tries = std::min<size_t>(2 * eligible, 64);
  for (size_t i = 0; i < tries; ++i) {
    std::optional<PickResult> other = internal::PickNow(balancer);
    if (!other.has_value()) break;
    if (!Contains(tried, other->endpoint().address())) {
      pick->Done(NotUsedStatus());
      return other;
    }
    other->Done(NotUsedStatus());
  }
  return pick;
}

absl::Time OverallDeadline(const CallPolicy& policy) {
  return ::etcdgrpc::internal::MonoNow() + policy.overall_timeout;
}

bool SetAttemptDeadline(grpc::ClientContext& context, const CallPolicy& policy,
                        absl::Time overall_deadline) {
  const absl::Duration left = overall_deadline - ::etcdgrpc::internal::MonoNow();
  context.set_deadline(absl::ToChronoTime(absl::Now() + std::min(policy.attempt_timeout, left)));
  return left < policy.attempt_timeout - kCutShortSlack;
}

grpc::Status OutcomeForBalancer(const grpc::Status& status, bool cut_short) {
  if (!cut_short || status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) return status;
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "cut short by the overall deadline (balanced call)");
}

absl::Status FinalStatus(const grpc::Status& status, const std::string& method,
                         const std::string& endpoint, int attempt, const CallPolicy& policy,
                         const std::vector<std::string>& tried, absl::string_view why_stopped) {
  std::string message =
      absl::StrCat(status.error_message(), " [", endpoint, " ", method, " attempt ", attempt,
                   " of ", policy.retry.max_attempts, "; tried ", absl::StrJoin(tried, ", "), "]");
  if (!why_stopped.empty()) absl::StrAppend(&message, "; ", why_stopped);
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
}

absl::Status NoEndpointStatus(const std::string& method, const CallPolicy& policy, int attempts) {
  return absl::UnavailableError(absl::StrCat("no endpoint to call within the overall timeout of ",
                                             absl::FormatDuration(policy.overall_timeout), " [",
                                             method, " after ", attempts,
                                             attempts == 1 ? " attempt" : " attempts", "]"));
}

std::string OutOfTime(const CallPolicy& policy) {
  return absl::StrCat("no time for another attempt within the overall timeout of ",
                      absl::FormatDuration(policy.overall_timeout));
}

}  // namespace etcdgrpc::resolver::call_engine
