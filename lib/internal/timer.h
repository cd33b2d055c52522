// The client's one timer thread. A few long-lived parts of the client (the
// lease keeper, the watch stream) each own a slot: the thread calls the slot's
// OnTimer() when its wake time comes, and the slot answers with its next wake
// time (MonoNow() times). No thread per lease or watch; no wake-up unless one
// is due. Slots must not block: the timer never writes to a stream and never
// calls user code (the Dispatcher does).
#pragma once

#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "internal/mutex.h"

namespace etcdgrpc::internal {

class Timer {
 public:
  class Slot {
   public:
    virtual ~Slot() = default;
    // Runs on the timer thread with no timer lock held; returns the next time
    // it wants to run (InfiniteFuture: only when woken by RequestWake).
    virtual absl::Time OnTimer(absl::Time now) = 0;
  };

  Timer() = default;
  ~Timer() { Shutdown(); }

  // Registers a slot (kept until Shutdown); it first runs when woken.
  void Add(Slot* slot);
  // Makes `slot` run no later than `when`. Cheap when `when` is not earlier
  // than the slot's planned time: no wake-up.
  void RequestWake(Slot* slot, absl::Time when);
  // Stops the thread after the slot call in progress, if any.
  void Shutdown();

 private:
  struct Entry {
    Slot* slot;
    absl::Time next;
  };
  void Run();

  Mutex mu_;
  CondVar wake_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  // When the sleeping thread wakes next; InfinitePast while it is awake (it
  // looks at every slot before sleeping again).
  absl::Time sleeping_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace etcdgrpc::internal
