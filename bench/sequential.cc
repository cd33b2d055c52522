#include "sequential.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace etcdgrpc::bench {

absl::StatusOr<std::vector<ReportFigures>> RunInterleaved(std::vector<SequentialRun> runs,
                                                          int64_t ops, int64_t warmup_ops,
                                                          int64_t block_ops) {
  for (SequentialRun& run : runs) {
    for (int64_t i = -warmup_ops; i < 0; ++i) {
      if (absl::Status s = run.op(i); !s.ok()) return s;
    }
  }
  std::vector<Measurement> measurements(runs.size(), Measurement(ops));
  for (int64_t first = 0, block = 0; first < ops; first += block_ops, ++block) {
    const int64_t last = std::min(ops, first + block_ops);
    for (size_t k = 0; k < runs.size(); ++k) {
      // Alternate which run goes first so neither always follows the other.
      const size_t r = block % 2 == 0 ? k : runs.size() - 1 - k;
      Measurement& m = measurements[r];
      m.Start();
      for (int64_t i = first; i < last; ++i) {
        const absl::Time start = absl::Now();
        if (absl::Status s = runs[r].op(i); !s.ok()) return s;
        m.AddLatency(absl::Now() - start);
      }
      m.Stop();
    }
  }
  std::vector<ReportFigures> figures;
  for (size_t r = 0; r < runs.size(); ++r) {
    runs[r].report.ops = ops;
    figures.push_back(PrintReport(runs[r].report, measurements[r]));
  }
  return figures;
}

}  // namespace etcdgrpc::bench
