// Runs sequential workloads (one operation at a time) and, when there are
// several (ours and its raw-stub baseline), interleaves them in blocks so that
// each sees the same machine conditions; these VMs drift too much for
// back-to-back runs to be compared.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "report.h"

namespace etcdgrpc::bench {

struct SequentialRun {
  Report report;  // peer and workload; ops is filled in
  // Performs operation number i (warm-up operations get negative numbers).
  std::function<absl::Status(int64_t i)> op;
};

[[nodiscard]] absl::StatusOr<std::vector<ReportFigures>> RunInterleaved(
    std::vector<SequentialRun> runs, int64_t ops, int64_t warmup_ops = 200,
    int64_t block_ops = 500);

}  // namespace etcdgrpc::bench
