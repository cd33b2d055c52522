// The other processes of the concurrency benchmarks, run as modes of
// etcdgrpc-bench (--concurrency_helper) so that a hand-over is measured
// between processes, as it happens in production:
//   lock:  for each "lock" line on stdin: Lock, note the time, Unlock, print
//          the time of acquisition (µs since the epoch).
//   elect: campaign with a new session, lead until the session is lost, again.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "piped_process.h"

namespace etcdgrpc::bench {

struct HelperPlan {
  std::vector<std::string> endpoints;
  std::string mode;  // "lock" or "elect"
  std::string name;  // the lock's or the election's name
};

// The --concurrency_helper entry point.
absl::Status RunConcurrencyHelper(const HelperPlan& plan);

// A helper process (this binary in --concurrency_helper mode), killed and
// reaped on destruction.
using HelperProcess = PipedProcess;
[[nodiscard]] absl::StatusOr<HelperProcess> SpawnHelper(const std::string& self_path,
                                                        const HelperPlan& plan);

}  // namespace etcdgrpc::bench
