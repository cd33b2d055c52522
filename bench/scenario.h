// The benchmark scenarios' common frame: where etcd is, how much work to do,
// and the list of named scenarios `etcdgrpc-bench` can run.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/metrics.h"
#include "report.h"

namespace etcdgrpc::bench {

struct BenchEnv {
  std::vector<std::string> endpoints;
  // Multiplies every scenario's operation count and duration (quick runs, smoke
  // tests); the standard figures are at 1.
  double scale = 1.0;
  // Path of this executable, for scenarios that start a helper process.
  std::string self_path;
  // --- benchmark report: the Go peer's executable (go_peer.h); empty: scenarios run without.
  std::string go_peer;

  int64_t Scaled(int64_t count) const {
    const auto scaled = static_cast<int64_t>(static_cast<double>(count) * scale);
    return scaled < 1 ? 1 : scaled;
  }
};

// A client on the bench's etcd with default options; with `metrics`, instrumented (the
// "<workload>_metrics_on" runs, measured against "<workload>" with metrics off).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Client>> ConnectClient(
    const BenchEnv& env, std::shared_ptr<MetricsRegistry> metrics = nullptr);

struct Scenario {
  std::string name;
  std::string description;
  // Runs the scenario and prints its report lines; returns their figures.
  std::function<absl::StatusOr<std::vector<ReportFigures>>(const BenchEnv&)> run;
};

void RegisterKvScenarios(std::vector<Scenario>& scenarios);
void RegisterLeaseScenarios(std::vector<Scenario>& scenarios);
void RegisterWatchScenarios(std::vector<Scenario>& scenarios);
void RegisterResolverScenarios(std::vector<Scenario>& scenarios);
void RegisterRegistryScenarios(std::vector<Scenario>& scenarios);
void RegisterFailoverScenarios(std::vector<Scenario>& scenarios);
// --- concurrency (scenarios_concurrency.cc) ---
void RegisterConcurrencyScenarios(std::vector<Scenario>& scenarios);
// --- health-aware registration (scenarios_serving.cc) ---
void RegisterServingScenarios(std::vector<Scenario>& scenarios);
// --- balanced calls (scenarios_calls.cc) ---
void RegisterCallsScenarios(std::vector<Scenario>& scenarios);
// --- balancing: health checks, ejection (scenarios_balancing.cc) ---
void RegisterBalancingScenarios(std::vector<Scenario>& scenarios);
// --- balancing channel (scenarios_channel.cc) ---
void RegisterChannelScenarios(std::vector<Scenario>& scenarios);

}  // namespace etcdgrpc::bench
