#include "cli/signals.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/time/clock.h"

namespace etcdgrpc::cli {

SignalWaiter::SignalWaiter(const SignalWaiterOptions& options) : owner_(pthread_self()) {
  sigemptyset(&waited_);
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction current = {};
    const bool ignored = sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
    if (ignored) {
      // Go's runtime keeps an inherited SIG_IGN only for SIGHUP and SIGINT,
      // and signal.Notify drops even that (os/signal: "it will no longer be
      // ignored"); a SIGTERM it always takes, and dies of.
      if (sig == SIGINT && !options.notify) continue;
      struct sigaction taken = {};
      taken.sa_handler = SIG_DFL;
      sigemptyset(&taken.sa_mask);
      sigaction(sig, &taken, nullptr);
    }
    sigaddset(&waited_, sig);
  }
  sigaddset(&waited_, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &waited_, &previous_);
}

SignalWaiter::~SignalWaiter() {
  // Whatever is still pending would be delivered with its default action
  // (termination) as soon as the mask is restored.
  const timespec zero = {0, 0};
  while (sigtimedwait(&waited_, nullptr, &zero) > 0 || errno == EINTR) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void SignalWaiter::Wake() { pthread_kill(owner_, kWakeSignal); }

bool SignalWaiter::Wait(absl::Duration timeout) {
  if (signal_ != 0) return true;
  const bool forever = timeout == absl::InfiniteDuration();
  const absl::Time deadline = forever ? absl::InfiniteFuture() : absl::Now() + timeout;
  while (true) {
    int received;
    if (forever) {
      received = sigwaitinfo(&waited_, nullptr);
    } else {
      const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
      const timespec wait = absl::ToTimespec(left);
      received = sigtimedwait(&waited_, nullptr, &wait);
    }
    if (received == SIGINT || received == SIGTERM) {
      signal_ = received;
      return true;
    }
    if (received == kWakeSignal) return false;
    if (received < 0 && errno == EAGAIN) return false;  // timed out
    // EINTR (a signal outside the set was handled): wait again.
  }
}

bool SignalWaiter::WaitForSignalOr(const std::function<bool()>& done, absl::Time deadline) {
  while (true) {
    if (signal_ != 0) return true;
    if (done()) return false;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    if (Wait(deadline == absl::InfiniteFuture() ? absl::InfiniteDuration() : deadline - now)) {
      return true;
    }
  }
}

void SignalWaiter::TerminateBy(int sig) {
  std::fflush(nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(sig, &default_action, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
  raise(sig);
  // Not reached for SIGINT/SIGTERM; the shell's convention otherwise.
  _exit(128 + sig);
}

}  // namespace etcdgrpc::cli
