// A RegistrationListener that records every state change, with bounded waits, for the tests
// of the registry and of what uses it (one copy instead of one per test file). Header-only:
// only tests that link etcdgrpc::registry include it.
#ifndef ETCDGRPC_TESTS_SUPPORT_REGISTRATION_RECORDER_H_
#define ETCDGRPC_TESTS_SUPPORT_REGISTRATION_RECORDER_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcdgrpc/registry/registration.h"

namespace etcdgrpc::testing {

class RegistrationRecorder : public registry::RegistrationListener {
 public:
  // Records the event, then runs `react` (if set) inside the call, without the lock.
  void OnStateChange(const registry::RegistrationEvent& event) override {
    {
      absl::MutexLock lock(&mu_);
      events_.push_back(event);
    }
    if (react) react(event);
  }

  std::vector<registry::RegistrationEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::vector<registry::RegistrationState> states() {
    std::vector<registry::RegistrationState> states;
    for (const registry::RegistrationEvent& event : events()) states.push_back(event.state);
    return states;
  }
  // Until `count` events of `state` were heard.
  bool WaitFor(registry::RegistrationState state, absl::Duration timeout, int count = 1) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      int seen = 0;
      for (const registry::RegistrationEvent& event : events_) {
        if (event.state == state) ++seen;
      }
      return seen >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  // The first event of `state`, if any.
  std::optional<registry::RegistrationEvent> First(registry::RegistrationState state) {
    for (const registry::RegistrationEvent& event : events()) {
      if (event.state == state) return event;
    }
    return std::nullopt;
  }
  // The last event, if any.
  std::optional<registry::RegistrationEvent> Last() {
    std::vector<registry::RegistrationEvent> all = events();
    if (all.empty()) return std::nullopt;
    return all.back();
  }

  // Set before the listener is registered.
  std::function<void(const registry::RegistrationEvent&)> react;

 private:
  absl::Mutex mu_;
  std::vector<registry::RegistrationEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_REGISTRATION_RECORDER_H_
