// The bench's results as JSON (--results_json): every line's figures grouped by scenario, the
// machine and the versions; what `./dev bench --report` draws its page from (bench/report/).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "report.h"
#include "scenario.h"

namespace etcdgrpc::bench {

struct ScenarioResult {
  std::string scenario;
  int round = 0;  // of --repeat
  double wall_seconds = 0;
  std::vector<ReportFigures> lines;
  std::string error;  // empty when it succeeded
};

struct ResultsContext {
  const BenchEnv* env = nullptr;
  std::string etcd_version;  // of the first endpoint, from its Status; empty if unknown
  std::string started_at;    // RFC 3339
};

// Writes the file (replacing it) with the results so far; the bench calls it after every
// scenario, so a run that dies midway still leaves what it measured.
[[nodiscard]] absl::Status WriteResultsJson(const std::string& path, const ResultsContext& context,
                                            const std::vector<ScenarioResult>& results);

}  // namespace etcdgrpc::bench
