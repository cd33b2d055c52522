// The resolver's one background thread: runs delayed tasks (re-lists after a
// failure) and periodic ones (channel health polls). No thread per service
// or endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcdgrpc::resolver::internal {

class Scheduler {
 public:
  Scheduler();
  // Shutdown().
  ~Scheduler();
  // Runs no task after returning (later ones are dropped); waits for one in
  // progress. Must not be called from a task. Idempotent.
  void Shutdown();

  // Runs `task` on the scheduler's thread at `when` (or soon after).
  void RunAt(absl::Time when, std::function<void()> task);
  void RunAfter(absl::Duration delay, std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace etcdgrpc::resolver::internal
