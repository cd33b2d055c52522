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

namespace etcdgrpc::bench {

struct HelperPlan {
  std::vector<std::string> endpoints;
  std::string mode;  // "lock" or "elect"
  std::string name;  // the lock's or the election's name
};

// The --concurrency_helper entry point.
absl::Status RunConcurrencyHelper(const HelperPlan& plan);

// A helper process, killed and reaped on destruction.
class HelperProcess {
 public:
  [[nodiscard]] static absl::StatusOr<HelperProcess> Spawn(const std::string& self_path,
                                                           const HelperPlan& plan);
  HelperProcess(HelperProcess&& other) noexcept;
  ~HelperProcess();

  absl::Status WriteLine(const std::string& line);
  // The next line of its stdout, within `timeout`.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

 private:
  HelperProcess(int pid, int in_fd, int out_fd) : pid_(pid), in_fd_(in_fd), out_fd_(out_fd) {}
  int pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
};

}  // namespace etcdgrpc::bench
