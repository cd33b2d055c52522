// What the lock and elect commands share: a blocking wait of the concurrency
// library (Lock, Campaign) run on a worker thread while the main thread takes
// SIGINT/SIGTERM and cancels it, as etcdctl's cancelled context does; and
// etcdctl's display.Get of the key they print.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "cli/command.h"
#include "cli/signals.h"
#include "etcdgrpc/concurrency/wait_options.h"
#include "etcdgrpc/kv.h"

namespace etcdgrpc::cli {

// Go's context.Canceled, which etcdctl prints when a signal ends a wait.
inline constexpr char kContextCanceled[] = "context canceled";

struct WaitOutcome {
  absl::Status status;
  // A signal arrived (its wait was cancelled, or it had just finished).
  bool interrupted = false;
};

// Runs `wait` on a worker thread; a SIGINT/SIGTERM meanwhile cancels it
// through the canceller it is given. Returns when `wait` has returned.
[[nodiscard]] WaitOutcome WaitUnlessInterrupted(
    SignalWaiter& signals, const std::function<absl::Status(const concurrency::Canceller&)>& wait);

// The key-value read back after acquiring, as etcdctl's display.Get prints
// it in the chosen output format.
[[nodiscard]] absl::Status PrintGetResponse(const CommandEnv& env, const GetResult& result);

}  // namespace etcdgrpc::cli
