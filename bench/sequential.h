// Runs a workload and, when there are several (ours and its raw-stub
// baseline), interleaves them in blocks so that each sees the same machine
// conditions; these VMs drift too much for back-to-back runs to be compared.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "report.h"

namespace etcdgrpc::bench {

// A sequential workload: one operation at a time.
struct SequentialRun {
  Report report;  // peer and workload; ops is filled in
  // Performs operation number i (warm-up operations get negative numbers).
  std::function<absl::Status(int64_t i)> op;
};

// A workload that performs a block of operations at a time (pipelined, for
// instance), recording each operation's latency in the measurement.
struct BlockRun {
  Report report;
  std::function<absl::Status(int64_t count, Measurement& measurement)> block;
  // Run before and after each block, outside the measurement: set up and
  // tear down what only this run needs (a writer process, a stream). A
  // stream left open while the other run is measured would add a thread
  // polling gRPC's shared poller and tax that run with extra wake-ups.
  std::function<absl::Status(int64_t count)> prepare = nullptr;
  std::function<void()> finish = nullptr;
  // --- benchmark report: a run measured in another process (the Go peer, go_peer.h) prints
  // and returns that process's line in place of this process's measurement (which still
  // gives the etcd server's CPU during the peer's blocks).
  std::function<absl::StatusOr<ReportFigures>(const Measurement&)> external_report = nullptr;
};

// `other_runs` (the Go peer's, go_peer.h) join the interleaving after `runs`.
[[nodiscard]] absl::StatusOr<std::vector<ReportFigures>> RunInterleaved(
    std::vector<SequentialRun> runs, int64_t ops, int64_t warmup_ops = 200, int64_t block_ops = 500,
    std::vector<BlockRun> other_runs = {});

// Warms each run up with one block of `warmup_ops` (measured separately and
// discarded), then alternates blocks of `block_ops` until each did `ops`.
[[nodiscard]] absl::StatusOr<std::vector<ReportFigures>> RunBlocksInterleaved(
    std::vector<BlockRun> runs, int64_t ops, int64_t warmup_ops, int64_t block_ops);

}  // namespace etcdgrpc::bench
