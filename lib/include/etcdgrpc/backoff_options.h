// BackoffOptions on its own, so that the backoff formula the client, the registry and the
// resolver share (common/backoff.h) needs nothing else of the client's options.
#pragma once

#include "absl/time/time.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

// Reconnect delays of the watch and keep-alive streams: exponential, with
// random jitter so that many clients do not reconnect in lock-step.
struct ETCDGRPC_EXPORT BackoffOptions {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(5);
  double multiplier = 2.0;
  // Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
};

}  // namespace etcdgrpc
