// Jittered exponential backoff for reconnecting streams.
#pragma once

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "etcdgrpc/client_options.h"

namespace etcdgrpc::internal {

class Backoff {
 public:
  explicit Backoff(const BackoffOptions& options) : options_(options) {}
  // The delay before the next attempt; grows with each call until Reset().
  absl::Duration Next();
  // A connection succeeded: start from the initial delay again.
  void Reset() { attempts_ = 0; }

 private:
  BackoffOptions options_;
  int attempts_ = 0;
  absl::BitGen random_;
};

}  // namespace etcdgrpc::internal
