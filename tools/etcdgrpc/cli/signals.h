// Waiting for SIGINT/SIGTERM on the main thread, for commands that run until
// interrupted (watch, lease keep-alive, register). The signals are blocked in
// every thread and taken with sigtimedwait, so an interrupted command shuts
// down through ordinary code (cancel, join, flush) instead of dying in the
// signal's default action or running work in a signal handler.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <functional>

#include "absl/time/time.h"

namespace etcdgrpc::cli {

struct SignalWaiterOptions {
  // True for the commands whose etcdctl calls Go's signal.Notify for SIGINT
  // and SIGTERM (lock, elect): Notify installs a handler even for a SIGINT
  // the process was started with ignored, so such a SIGINT ends them. Without
  // it (watch, lease keep-alive, make-mirror) Go keeps an inherited SIG_IGN of
  // SIGINT, and so do we.
  bool notify = false;
};

// Typical use, on the main thread:
//
//   SignalWaiter signals;            // before anything starts a thread
//   auto client = env.Connect();     // gRPC's threads inherit the blocked mask
//   ... listeners set a flag, then call signals.Wake() ...
//   if (signals.WaitForSignalOr([&] { return done.load(); })) { /* interrupted */ }
//   ... stop, destroy the client, then SignalWaiter::TerminateBy(signals.signal()) ...
//
// Wake() may be called from any thread while the waiter exists; Wait* must be
// called on the thread that created it.
class SignalWaiter {
 public:
  // Blocks SIGINT and SIGTERM (and the signal Wake() uses) in the calling
  // thread and takes them, as etcdctl's Go runtime does: SIGTERM always (an
  // inherited SIG_IGN is reset), SIGINT unless the process was started with it
  // ignored (a background job of a script) and `options.notify` is false.
  // Threads created afterwards inherit the mask, so create the waiter before
  // the Client (or anything else that starts threads); a thread that already
  // runs with them unblocked would take the signal and die of it.
  explicit SignalWaiter(const SignalWaiterOptions& options = {});
  // Drops any of those signals still pending and restores the previous mask.
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // Makes the current (or the next) Wait on the owning thread return. Cheap,
  // never blocks, async-signal-safe; wakes made before a Wait are not lost
  // (several coalesce into one).
  void Wake();

  // Waits up to `timeout` for SIGINT/SIGTERM or a Wake(). Returns true if a
  // signal arrived (now or in an earlier call: once signalled, always true).
  [[nodiscard]] bool Wait(absl::Duration timeout = absl::InfiniteDuration());

  // Waits until a signal arrives (true) or `done()` returns true or
  // `deadline` passes (false). `done` runs on the calling thread before the
  // first wait and after every wake-up; whatever changes its answer must call
  // Wake().
  [[nodiscard]] bool WaitForSignalOr(const std::function<bool()>& done,
                                     absl::Time deadline = absl::InfiniteFuture());

  // The signal that arrived (SIGINT or SIGTERM), 0 if none yet.
  [[nodiscard]] int signal() const { return signal_; }

  // Ends the process the way `sig` would have ended it with its default
  // action, so that the parent sees what etcdctl gives (it dies of SIGINT and
  // SIGTERM: exit status 130/143 in a shell, and a shell loop around it stops
  // on Ctrl-C). Call it after shutting down and with the output written; it
  // flushes the stdio streams, restores the default action, unblocks `sig`
  // in the calling thread and raises it there.
  [[noreturn]] static void TerminateBy(int sig);

  // The signal Wake() sends to the owning thread.
  static constexpr int kWakeSignal = SIGUSR1;

 private:
  sigset_t waited_;    // SIGINT, SIGTERM, kWakeSignal
  sigset_t previous_;  // the mask before the constructor
  const pthread_t owner_;
  int signal_ = 0;  // only touched by the owning thread
};

}  // namespace etcdgrpc::cli
