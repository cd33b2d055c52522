// Runs user listener calls (a Registrar's RegistrationListener calls, a
// Resolver's ServiceListener calls, the client's callbacks that come due on
// its timer) on threads of their own, so that a listener that blocks holds up
// only its own later calls: jobs run in posting order on one worker; a job
// still running `handoff` after it started gets the queue handed to a new
// worker, and the blocked worker ends once its job returns. The owner's
// scheduler thread does the checking, so no thread only watches. Shared by
// the client, the registry and the resolver.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/scheduler.h"

namespace etcdgrpc::internal {

class ListenerRunner : public std::enable_shared_from_this<ListenerRunner> {
 public:
  using Job = absl::AnyInvocable<void() &&>;
  // `scheduler` (the owner's; it never runs listener code) does the checking
  // and outlives the runner's use of it: checks posted once it is shut down
  // are dropped.
  static std::shared_ptr<ListenerRunner> Create(absl::Duration handoff, Scheduler* scheduler);
  ~ListenerRunner();
  ListenerRunner(const ListenerRunner&) = delete;
  ListenerRunner& operator=(const ListenerRunner&) = delete;

  // Runs `job` soon on a worker (the first one starts on first use). After
  // Shutdown(), runs it on the calling thread: nothing posted is dropped.
  void Post(Job job);
  // Waits for the workers (a job in progress, even a blocked one, is waited
  // for, except the calling thread's own when called from inside a job),
  // then runs what is still queued on the calling thread. Idempotent.
  void Shutdown();

  // True on one of this runner's workers (inside one of its jobs), false on
  // any other thread, including one running jobs inline after Shutdown().
  [[nodiscard]] bool IsWorker() const;

  // Workers started so far: 1 + hand-offs (tests).
  [[nodiscard]] uint64_t workers_started() const {
    return workers_started_.load(std::memory_order_relaxed);
  }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  ListenerRunner(absl::Duration handoff, Scheduler* scheduler);
  void Work(uint64_t token, Worker* worker);
  void Check();
  void StartWorkerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Workers that have finished, taken out of the list to be joined outside
  // the lock.
  std::list<std::unique_ptr<Worker>> TakeFinishedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Join(std::list<std::unique_ptr<Worker>>& workers);

  const absl::Duration handoff_;
  Scheduler* const scheduler_;

  Mutex mu_;
  // Wakes an idle worker: a job queued, a hand-off (token changed), shutdown.
  CondVar work_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  // The worker whose token is current takes jobs; one handed off ends once
  // its job returns.
  uint64_t token_ ABSL_GUARDED_BY(mu_) = 0;
  bool worker_running_ ABSL_GUARDED_BY(mu_) = false;
  // When the current worker started its job; InfinitePast while it is idle.
  absl::Time busy_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // When the pending check runs; InfiniteFuture when none is pending.
  absl::Time check_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::list<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> workers_started_{0};
};

}  // namespace etcdgrpc::internal
