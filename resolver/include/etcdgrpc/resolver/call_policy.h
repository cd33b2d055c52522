// How BalancedStub (balanced_call.h) makes one call through a Balancer: how
// many attempts, the backoff between them, which codes are retried, the
// per-attempt and overall deadlines, idempotency, and hedging for reads.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/backoff_options.h"
#include "etcdgrpc/export.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver {

// The same delay before every retry (what go-grpc-middleware calls
// BackoffLinear): LinearBackoff(absl::Milliseconds(100)) waits 100 ms, 100 ms,
// ... `jitter` spreads each delay over [1 - jitter, 1 + jitter] of it.
[[nodiscard]] ETCDGRPC_EXPORT BackoffOptions LinearBackoff(absl::Duration delay, double jitter = 0);
// initial × multiplier^retry, capped at `max`, each delay times a random
// factor in [1 - jitter, 1 + jitter] (the client's stream backoff formula).
[[nodiscard]] ETCDGRPC_EXPORT BackoffOptions ExponentialBackoff(absl::Duration initial,
                                                                absl::Duration max,
                                                                double multiplier = 2.0,
                                                                double jitter = 0.2);

struct ETCDGRPC_EXPORT RetryPolicy {
  // Attempts in all, the first included (hedged attempts count too): 1 turns
  // retries off. Each retry goes to an endpoint not tried yet while the
  // balancer has one.
  int max_attempts = 3;
  // The delay before retry k (k = 0 for the first retry). Not used between
  // hedged attempts (HedgingPolicy::delay spaces those).
  BackoffOptions backoff = ExponentialBackoff(absl::Milliseconds(100), absl::Seconds(1));
  // The codes that are retried. DEADLINE_EXCEEDED here retries an attempt
  // that ran out of its own deadline (never one that ran out of the overall
  // one); RESOURCE_EXHAUSTED an endpoint that sheds load. A call that is not
  // idempotent is retried only as CallPolicy::idempotent says.
  std::vector<grpc::StatusCode> retryable_codes = {grpc::StatusCode::UNAVAILABLE};
};

// Hedging: when an attempt has not answered within `delay`, another one is
// sent to another endpoint, up to `max_in_flight` at once and
// RetryPolicy::max_attempts in all. The first answer that is OK or not
// retryable is the call's; the others are cancelled (ClientContext::
// TryCancel) and reported to the balancer as CANCELLED. A retryable failure
// sends the next attempt at once. Only for idempotent calls, and only through
// the callback form of the method (&Stub::async::Method).
struct ETCDGRPC_EXPORT HedgingPolicy {
  absl::Duration delay = absl::Milliseconds(50);
  int max_in_flight = 2;
};

struct ETCDGRPC_EXPORT CallPolicy {
  RetryPolicy retry{};
  // Each attempt's deadline (cut to what is left of the overall one).
  absl::Duration attempt_timeout = absl::Seconds(1);
  // The whole call: attempts, backoff and waiting for an endpoint.
  // InfiniteDuration: none.
  absl::Duration overall_timeout = absl::Seconds(5);
  // True when the method may run twice with no harm (reads, puts of the same
  // value). A call that is not idempotent is retried only when gRPC could not
  // connect to the endpoint at all (UNAVAILABLE "failed to connect to all
  // addresses": the request never left this process), never after a
  // deadline, a reset connection or an answer, since the server may have run
  // it; see docs/calls.md, "Idempotency".
  bool idempotent = false;
  std::optional<HedgingPolicy> hedging = std::nullopt;
};

// OK, or INVALID_ARGUMENT naming the first bad field: max_attempts < 1, a
// negative or infinite backoff, a multiplier below 1, a jitter outside
// [0, 1], a timeout that is not positive, OK among the retryable codes,
// hedging with a call that is not idempotent, a negative hedging delay or
// max_in_flight < 1. BalancedStub checks it before any call.
[[nodiscard]] ETCDGRPC_EXPORT absl::Status ValidateCallPolicy(const CallPolicy& policy);

}  // namespace etcdgrpc::resolver
