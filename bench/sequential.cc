#include "sequential.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/time/clock.h"

namespace etcdgrpc::bench {

absl::StatusOr<std::vector<ReportFigures>> RunBlocksInterleaved(std::vector<BlockRun> runs,
                                                                int64_t ops, int64_t warmup_ops,
                                                                int64_t block_ops) {
  for (BlockRun& run : runs) {
    Measurement discarded;
    if (warmup_ops > 0) {
      if (run.prepare) {
        if (absl::Status s = run.prepare(warmup_ops); !s.ok()) return s;
      }
      absl::Status s = run.block(warmup_ops, discarded);
      // As in the measured blocks: torn down even when the block failed, so that
      // nothing of this run is left pointing at `discarded`.
      if (run.finish) run.finish();
      if (!s.ok()) return s;
    }
  }
  std::vector<Measurement> measurements(runs.size(), Measurement(ops));
  for (int64_t done = 0, block = 0; done < ops; done += block_ops, ++block) {
    const int64_t count = std::min(block_ops, ops - done);
    for (size_t k = 0; k < runs.size(); ++k) {
      // Alternate which run goes first so neither always follows the other.
      const size_t r = block % 2 == 0 ? k : runs.size() - 1 - k;
      Measurement& m = measurements[r];
      if (runs[r].prepare) {
        if (absl::Status s = runs[r].prepare(count); !s.ok()) return s;
      }
      m.Start();
      absl::Status s = runs[r].block(count, m);
      m.Stop();
      if (runs[r].finish) runs[r].finish();
      if (!s.ok()) return s;
    }
  }
  std::vector<ReportFigures> figures;
  for (size_t r = 0; r < runs.size(); ++r) {
    runs[r].report.ops = ops;
    if (runs[r].external_report) {
      absl::StatusOr<ReportFigures> external = runs[r].external_report(measurements[r]);
      if (!external.ok()) return external.status();
      figures.push_back(*std::move(external));
      continue;
    }
    figures.push_back(PrintReport(runs[r].report, measurements[r]));
  }
  return figures;
}

absl::StatusOr<std::vector<ReportFigures>> RunInterleaved(std::vector<SequentialRun> runs,
                                                          int64_t ops, int64_t warmup_ops,
                                                          int64_t block_ops,
                                                          std::vector<BlockRun> other_runs) {
  std::vector<BlockRun> blocks;
  for (SequentialRun& run : runs) {
    // Warm-up operations get negative numbers; measured ones count up from 0.
    auto next = std::make_shared<int64_t>(-warmup_ops);
    blocks.push_back(
        {.report = run.report,
         .block = [op = std::move(run.op), next](int64_t count, Measurement& m) -> absl::Status {
           for (int64_t n = 0; n < count; ++n) {
             const absl::Time start = absl::Now();
             if (absl::Status s = op((*next)++); !s.ok()) return s;
             m.AddLatency(absl::Now() - start);
           }
           return absl::OkStatus();
         }});
  }
  for (BlockRun& run : other_runs) blocks.push_back(std::move(run));
  return RunBlocksInterleaved(std::move(blocks), ops, warmup_ops, block_ops);
}

}  // namespace etcdgrpc::bench
