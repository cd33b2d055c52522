// Threads that a component starts as it goes (a stream reader handed off from
// a blocked listener): each is joined as soon as it has finished, so finished
// threads do not keep their stacks until shutdown.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "common/mutex.h"

namespace etcdgrpc::internal {

class ThreadSet {
 public:
  ThreadSet() = default;
  ~ThreadSet() { JoinAll(); }
  ThreadSet(const ThreadSet&) = delete;
  ThreadSet& operator=(const ThreadSet&) = delete;

  // Runs `fn` on a new thread; joins threads that have finished first.
  void Start(absl::AnyInvocable<void() &&> fn);
  // Joins the threads that have finished; never waits for a running one.
  void ReapFinished();
  // Waits for every thread. Called from one of them it would wait for
  // itself: that is a misuse (a Client destroyed from its own callback) and
  // aborts with a message saying so.
  void JoinAll();
  // Threads started and not yet joined.
  size_t size() const;

 private:
  struct Member {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  std::list<std::unique_ptr<Member>> members_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::internal
