// Jittered exponential backoff (BackoffOptions): the one formula for stream
// reconnects, re-registrations and the resolver's re-lists and re-watches.
#pragma once

#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
#include "absl/time/time.h"
#include "etcdgrpc/backoff_options.h"

namespace etcdgrpc::internal {

class Backoff {
 public:
  explicit Backoff(const BackoffOptions& options) : options_(options) {}
  // The delay before the next attempt; grows with each call until Reset().
  absl::Duration Next();
  // A connection succeeded: start from the initial delay again.
  void Reset() { attempts_ = 0; }

  // The delay before attempt `attempt` (0: the first retry): initial ×
  // multiplier^attempt, capped at max, times a uniform factor in
  // [1 - jitter, 1 + jitter]. `random` is the caller's (and under its lock
  // when shared).
  [[nodiscard]] static absl::Duration Delay(const BackoffOptions& options, int attempt,
                                            absl::BitGenRef random);
  // The same without the random factor (options.jitter is not used), for a
  // caller with no herd of retries to spread.
  [[nodiscard]] static absl::Duration DelayWithoutJitter(const BackoffOptions& options,
                                                         int attempt);

 private:
  BackoffOptions options_;
  int attempts_ = 0;
  absl::BitGen random_;
};

}  // namespace etcdgrpc::internal
