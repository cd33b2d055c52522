// Election::Observe's follower (Go's Election.observe, without its
// goroutine): reads the leader, watches its key for new values and for its
// deletion, then reads the next leader; with no leader, watches the prefix for
// the first candidate. Each step starts the next from a watch or an
// asynchronous read's callback, so observing costs no thread; the listener's
// calls go through one SerialExecutor (in order, never overlapping).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "common/serial_executor.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/session.h"

namespace etcdgrpc::concurrency::internal {

class Observer : public std::enable_shared_from_this<Observer> {
 public:
  // Reads the current leader (on the calling thread; the listener may hear it
  // before this returns) and starts following.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Observer>> Start(
      std::shared_ptr<Session> session, std::string prefix, ElectionListener* listener);
  Observer(std::shared_ptr<Session> session, std::string prefix, ElectionListener* listener);
  ~Observer();

  // No listener call starts after it; one in progress is waited for unless
  // this is called from it.
  void Stop();

 private:
  enum class Phase { kAwaitingCandidate, kFollowingLeader };
  class Sink;

  // A listing of the prefix's oldest key: deliver it and follow it, or wait
  // for the first candidate.
  void OnListing(absl::StatusOr<GetResult> result);
  void OnEvents(uint64_t generation, const WatchEvents& batch);
  void OnWatchEnd(uint64_t generation, const WatchEnd& end);
  // Replaces the watch (and its sink) with one on `request`.
  void Follow(WatchRequest request, Phase phase);
  void Relist();
  void Deliver(LeaderInfo leader);
  void End(const absl::Status& why);

  const std::shared_ptr<Session> session_;
  const std::string prefix_;
  ElectionListener* const listener_;
  ::etcdgrpc::internal::SerialExecutor executor_;

  ::etcdgrpc::internal::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitingCandidate;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<Sink> sink_ ABSL_GUARDED_BY(mu_);
  // The sink of the watch replaced last: its call that replaced it may still
  // be returning; freed at the next replacement.
  std::unique_ptr<Sink> retired_ ABSL_GUARDED_BY(mu_);
  // Declared after the sinks: cancelled before they go.
  WatchHandle watch_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::concurrency::internal
