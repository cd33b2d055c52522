// CallPolicy's helpers and its validation (call_policy.h).
#include "etcdgrpc/resolver/call_policy.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::resolver {

BackoffOptions LinearBackoff(absl::Duration delay, double jitter) {
  return BackoffOptions{.initial = delay, .max = delay, .multiplier = 1.0, .jitter = jitter};
}

BackoffOptions ExponentialBackoff(absl::Duration initial, absl::Duration max, double multiplier,
                                  double jitter) {
  return BackoffOptions{.initial = initial, .max = max, .multiplier = multiplier, .jitter = jitter};
}

namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("CallPolicy.", field, ": ", why));
}

bool Positive(absl::Duration d) { return d > absl::ZeroDuration(); }

}  // namespace

absl::Status ValidateCallPolicy(const CallPolicy& policy) {
  const RetryPolicy& retry = policy.retry;
  if (retry.max_attempts < 1) {
    return Bad("retry.max_attempts",
               absl::StrCat(retry.max_attempts, " attempts; at least 1 (the first attempt)"));
  }
  const BackoffOptions& backoff = retry.backoff;
  if (backoff.initial < absl::ZeroDuration() || backoff.initial == absl::InfiniteDuration()) {
    return Bad("retry.backoff.initial",
               absl::StrCat(absl::FormatDuration(backoff.initial), "; must be finite and >= 0"));
  }
  if (backoff.max < backoff.initial || backoff.max == absl::InfiniteDuration()) {
    return Bad("retry.backoff.max",
               absl::StrCat(absl::FormatDuration(backoff.max), "; must be finite and >= initial (",
                            absl::FormatDuration(backoff.initial), ")"));
  }
  if (!(backoff.multiplier >= 1.0) || !std::isfinite(backoff.multiplier)) {
    return Bad("retry.backoff.multiplier", absl::StrCat(backoff.multiplier, "; must be >= 1"));
  }
  if (!(backoff.jitter >= 0.0 && backoff.jitter <= 1.0)) {
    return Bad("retry.backoff.jitter", absl::StrCat(backoff.jitter, "; must be in [0, 1]"));
  }
  for (grpc::StatusCode code : retry.retryable_codes) {
    if (code == grpc::StatusCode::OK) return Bad("retry.retryable_codes", "OK is not a failure");
    if (code < grpc::StatusCode::OK || code > grpc::StatusCode::UNAUTHENTICATED) {
      return Bad("retry.retryable_codes",
                 absl::StrCat(static_cast<int>(code), " is not a gRPC status code"));
    }
  }
  if (!Positive(policy.attempt_timeout)) {
    return Bad("attempt_timeout",
               absl::StrCat(absl::FormatDuration(policy.attempt_timeout), "; must be > 0"));
  }
  if (!Positive(policy.overall_timeout)) {
    return Bad("overall_timeout",
               absl::StrCat(absl::FormatDuration(policy.overall_timeout), "; must be > 0"));
  }
  if (policy.hedging.has_value()) {
    const HedgingPolicy& hedging = *policy.hedging;
    if (!policy.idempotent) {
      return Bad("hedging", "only for idempotent calls (set CallPolicy.idempotent)");
    }
    if (hedging.delay < absl::ZeroDuration()) {
      return Bad("hedging.delay",
                 absl::StrCat(absl::FormatDuration(hedging.delay), "; must be >= 0"));
    }
    if (hedging.max_in_flight < 1) {
      return Bad("hedging.max_in_flight", absl::StrCat(hedging.max_in_flight, "; at least 1"));
    }
  }
  return absl::OkStatus();
}

}  // namespace etcdgrpc::resolver
