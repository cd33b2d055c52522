// The writer half of the watch benchmarks, run as a separate process (a mode
// of etcdgrpc-bench) so that only the watching process is measured. It waits
// for a byte on stdin, then writes; every value is the write's wall-clock
// time in microseconds, from which the watcher computes delivery latency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace etcdgrpc::bench {

struct WriterPlan {
  std::vector<std::string> endpoints;
  std::string prefix;
  // "batched": `count` puts of distinct keys, `batch` per Txn;
  // "single": `count` single puts; "keys": every one of `keys` keys
  // (<prefix><i>) put `rounds` times.
  std::string mode = "single";
  int64_t count = 0;
  int64_t batch = 100;
  int64_t keys = 0;
  int64_t rounds = 10;
};

// Runs the writer in this process (the --writer_mode entry point).
absl::Status RunWriter(const WriterPlan& plan);

// A writer process started and waiting for Go().
class WriterProcess {
 public:
  [[nodiscard]] static absl::StatusOr<WriterProcess> Spawn(const std::string& self_path,
                                                           const WriterPlan& plan);
  WriterProcess(WriterProcess&& other) noexcept;
  ~WriterProcess();
  // Lets it start writing.
  absl::Status Go();
  // Waits for it to exit; its exit status as a Status.
  absl::Status Wait();

 private:
  WriterProcess(int pid, int go_fd) : pid_(pid), go_fd_(go_fd) {}
  int pid_ = -1;
  int go_fd_ = -1;
};

// Microseconds since the epoch encoded in a writer's value; 0 if not one.
int64_t WrittenAtMicros(const std::string& value);

}  // namespace etcdgrpc::bench
