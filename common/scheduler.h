// The one background thread of a client, a Registrar or a Resolver. It runs
// tasks at a MonoNow() time (clock.h), in time order and posting order among
// equal times, and slots: long-lived parts (the lease keeper, the watch
// stream) that the thread calls when their wake time comes and that answer
// with their next one, so that a renewal tick allocates nothing. No thread per
// lease, watch or registration; no wake-up unless something is due. Tasks and
// slots must not block: the thread also delivers everything after them.
#pragma once

#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace etcdgrpc::internal {

class Scheduler {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  class Slot {
   public:
    virtual ~Slot() = default;
    // Runs on the scheduler's thread with no scheduler lock held; returns the
    // next time it wants to run (InfiniteFuture: only when woken by
    // RequestWake).
    virtual absl::Time OnTimer(absl::Time now) = 0;
  };

  Scheduler() = default;
  ~Scheduler() { Shutdown(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Registers a slot (kept until Shutdown); it first runs when woken.
  void Add(Slot* slot);
  // Makes `slot` run no later than `when`. Cheap when `when` is not earlier
  // than the slot's planned time: no wake-up.
  void RequestWake(Slot* slot, absl::Time when);

  // Runs `task` on the thread as soon as possible, after the tasks posted
  // before it. Dropped (destroyed on the calling thread) after Shutdown().
  void Post(Task task) { PostAt(absl::InfinitePast(), std::move(task)); }
  // Runs `task` on the thread at `when` (a MonoNow() time) or soon after.
  void PostAt(absl::Time when, Task task);
  void PostAfter(absl::Duration delay, Task task);

  // Stops the thread after the task or slot call in progress and destroys
  // the tasks left, outside the lock (their captures may post: dropped).
  // Idempotent. From the thread itself it does not wait for itself.
  void Shutdown();

 private:
  struct SlotEntry {
    Slot* slot;
    absl::Time next;
  };
  // Everything the thread touches, shared with it: Shutdown() from the thread
  // itself (a task whose captures destroy the owner) detaches the thread, and
  // it then leaves Run() without touching the freed Scheduler.
  struct State {
    void WakeLocked(absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

    Mutex mu;
    CondVar wake;
    std::vector<SlotEntry> slots ABSL_GUARDED_BY(mu);
    std::multimap<absl::Time, Task> tasks ABSL_GUARDED_BY(mu);
    // When the sleeping thread wakes next; InfinitePast while it is awake (it
    // looks at every task and slot before sleeping again).
    absl::Time sleeping_until ABSL_GUARDED_BY(mu) = absl::InfinitePast();
    bool kicked ABSL_GUARDED_BY(mu) = false;
    bool started ABSL_GUARDED_BY(mu) = false;
    bool shutdown ABSL_GUARDED_BY(mu) = false;
  };
  void StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu);
  static void Run(const std::shared_ptr<State>& state);

  const std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

}  // namespace etcdgrpc::internal
