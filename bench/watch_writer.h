// The writer half of the watch benchmarks, run as a separate process (a mode
// of etcdgrpc-bench) so that only the watching process is measured. It waits
// for a byte on stdin, then writes; every value is the write's wall-clock
// time in microseconds, from which the watcher computes delivery latency.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "piped_process.h"

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

// A writer process started and waiting for Go(); killed if dropped before it exits.
class WriterProcess {
 public:
  [[nodiscard]] static absl::StatusOr<WriterProcess> Spawn(const std::string& self_path,
                                                           const WriterPlan& plan);
  // Lets it start writing.
  absl::Status Go() { return process_.WriteLine("g"); }
  // Waits for it to exit; its exit status as a Status.
  absl::Status Wait() { return process_.Wait(); }

 private:
  explicit WriterProcess(PipedProcess process) : process_(std::move(process)) {}
  PipedProcess process_;
};

// Microseconds since the epoch encoded in a writer's value; 0 if not one.
int64_t WrittenAtMicros(const std::string& value);

}  // namespace etcdgrpc::bench
