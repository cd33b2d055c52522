// etcdgrpc-bench: runs named benchmark scenarios against an etcd (a throwaway
// local one unless --endpoints is given) and prints one line per scenario.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "local_etcd.h"
#include "scenario.h"
#include "watch_writer.h"
// --- concurrency ---
#include "concurrency_helper.h"
// --- benchmark report ---
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "results_json.h"

ABSL_FLAG(std::string, endpoints, "",
          "etcd endpoints (host:port,...); empty: start a throwaway local etcd");
ABSL_FLAG(double, scale, 1.0, "multiply every scenario's operation count and duration");
ABSL_FLAG(int, repeat, 1, "run the list of scenarios this many times");
ABSL_FLAG(bool, list, false, "list the scenarios and exit");
// The watch benchmarks' writer process (see watch_writer.h); not for people.
ABSL_FLAG(std::string, writer_mode, "", "internal: run as a watch benchmark writer");
ABSL_FLAG(std::string, writer_prefix, "", "internal: writer key prefix");
ABSL_FLAG(int64_t, writer_count, 0, "internal: writer puts");
ABSL_FLAG(int64_t, writer_batch, 100, "internal: writer puts per Txn");
ABSL_FLAG(int64_t, writer_keys, 0, "internal: writer keys");
ABSL_FLAG(int64_t, writer_rounds, 10, "internal: writer rounds over the keys");
// --- concurrency: the other processes of lock_handover and election_failover
// (concurrency_helper.h).
ABSL_FLAG(std::string, concurrency_helper, "",
          "internal: run as a concurrency helper (lock|elect)");
ABSL_FLAG(std::string, helper_name, "", "internal: the helper's lock or election name");
// --- benchmark report: the Go peer (go_peer.h) and the results file (results_json.h).
#ifndef ETCDGRPC_BENCH_GO_PEER
#define ETCDGRPC_BENCH_GO_PEER ""
#endif
ABSL_FLAG(std::string, go_peer, ETCDGRPC_BENCH_GO_PEER,
          "the Go peer's executable (bench/peers/go); empty: the scenarios run without it");
ABSL_FLAG(std::string, results_json, "",
          "also write every scenario's figures, the machine and the versions to this JSON file");

namespace etcdgrpc::bench {
namespace {

// For every "<x>_raw_stub" baseline (and "<x>_go_clientv3", the Go peer) a scenario ran
// next to "<x>", and for "<x>_metrics_on" against "<x>", the ratios the targets are stated
// in (client CPU per op, p50 latency).
void PrintComparisons(const std::vector<ReportFigures>& figures) {
  for (const ReportFigures& baseline : figures) {
    absl::string_view name = baseline.workload;
    if (!absl::ConsumeSuffix(&name, "_raw_stub") && !absl::ConsumeSuffix(&name, "_go_clientv3")) {
      continue;
    }
    for (const ReportFigures& ours : figures) {
      if (ours.workload == name) PrintCompare(ours, baseline);
    }
  }
  // "<x>" against "<x>_stub_same_wire" (the stub sending what our calls send), and that
  // against "<x>_raw_stub": what the library costs, and what its wire choices cost in gRPC.
  for (const ReportFigures& same : figures) {
    absl::string_view name = same.workload;
    if (!absl::ConsumeSuffix(&name, "_stub_same_wire") || same.cpu_us_per_op <= 0) continue;
    const std::string raw = absl::StrCat(name, "_raw_stub");
    for (const ReportFigures& other : figures) {
      if (other.workload == name) PrintCompare(other, same);
      if (other.workload == raw) PrintCompare(same, other);
    }
  }
  // "<x>_metrics_on" against "<x>": what metrics cost.
  for (const ReportFigures& on : figures) {
    absl::string_view name = on.workload;
    if (!absl::ConsumeSuffix(&name, "_metrics_on")) continue;
    for (const ReportFigures& off : figures) {
      if (off.workload == name) PrintCompare(on, off);
    }
  }
}

// The etcd version of the first endpoint (for the results file); empty if it cannot be read.
std::string EtcdVersion(const std::vector<std::string>& endpoints) {
  ClientOptions options;
  options.endpoints = endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return "";
  absl::StatusOr<EndpointStatus> status = (*client)->Status(endpoints.front());
  return status.ok() ? status->version : "";
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "etcdgrpc-bench [--endpoints=host:port,...] [--scale=X] [--repeat=N] SCENARIO...|all");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (std::string mode = absl::GetFlag(FLAGS_writer_mode); !mode.empty()) {
    WriterPlan plan;
    plan.endpoints = absl::StrSplit(absl::GetFlag(FLAGS_endpoints), ',', absl::SkipEmpty());
    plan.prefix = absl::GetFlag(FLAGS_writer_prefix);
    plan.mode = mode;
    plan.count = absl::GetFlag(FLAGS_writer_count);
    plan.batch = absl::GetFlag(FLAGS_writer_batch);
    plan.keys = absl::GetFlag(FLAGS_writer_keys);
    plan.rounds = absl::GetFlag(FLAGS_writer_rounds);
    absl::Status status = RunWriter(plan);
    if (!status.ok()) std::fprintf(stderr, "writer: %s\n", status.ToString().c_str());
    return status.ok() ? 0 : 1;
  }
  // --- concurrency ---
  if (std::string mode = absl::GetFlag(FLAGS_concurrency_helper); !mode.empty()) {
    HelperPlan plan;
    plan.endpoints = absl::StrSplit(absl::GetFlag(FLAGS_endpoints), ',', absl::SkipEmpty());
    plan.mode = mode;
    plan.name = absl::GetFlag(FLAGS_helper_name);
    absl::Status status = RunConcurrencyHelper(plan);
    if (!status.ok()) std::fprintf(stderr, "helper: %s\n", status.ToString().c_str());
    return status.ok() ? 0 : 1;
  }
  std::vector<Scenario> scenarios;
  RegisterKvScenarios(scenarios);
  RegisterLeaseScenarios(scenarios);
  RegisterWatchScenarios(scenarios);
  RegisterResolverScenarios(scenarios);
  RegisterRegistryScenarios(scenarios);
  RegisterFailoverScenarios(scenarios);
  RegisterConcurrencyScenarios(scenarios);  // --- concurrency ---
  RegisterServingScenarios(scenarios);      // --- health-aware registration ---
  RegisterCallsScenarios(scenarios);        // --- balanced calls ---
  RegisterBalancingScenarios(scenarios);    // --- balancing ---
  RegisterChannelScenarios(scenarios);      // --- balancing channel ---
  if (absl::GetFlag(FLAGS_list)) {
    for (const Scenario& s : scenarios)
      std::printf("%-28s %s\n", s.name.c_str(), s.description.c_str());
    return 0;
  }
  std::vector<const Scenario*> selected;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string name = args[i];
    bool found = false;
    // "<x>_raw_stub" runs inside scenario <x>, interleaved with it.
    absl::string_view base = name;
    absl::ConsumeSuffix(&base, "_raw_stub");
    absl::ConsumeSuffix(&base, "_go_clientv3");  // --- benchmark report: the Go peer's too
    for (const Scenario& s : scenarios) {
      if (name == "all" || s.name == base) {
        // Once each: "x x_raw_stub" names one scenario (--repeat repeats).
        if (std::find(selected.begin(), selected.end(), &s) == selected.end()) {
          selected.push_back(&s);
        }
        found = true;
      }
    }
    if (!found) {
      std::fprintf(stderr, "unknown scenario \"%s\"; --list shows them\n", name.c_str());
      return 2;
    }
  }
  if (selected.empty()) {
    std::fprintf(stderr, "%s\n", absl::ProgramUsageMessage().data());
    return 2;
  }

  BenchEnv env;
  env.scale = absl::GetFlag(FLAGS_scale);
  // The writer processes are this same executable.
  std::error_code error;
  env.self_path = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) env.self_path = argv[0];
  std::unique_ptr<testing::LocalEtcd> local_etcd;
  if (std::string endpoints = absl::GetFlag(FLAGS_endpoints); !endpoints.empty()) {
    env.endpoints = absl::StrSplit(endpoints, ',', absl::SkipEmpty());
  } else {
    absl::StatusOr<std::unique_ptr<testing::LocalEtcd>> started = testing::LocalEtcd::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start a local etcd: %s\n", started.status().ToString().c_str());
      return 1;
    }
    local_etcd = *std::move(started);
    env.endpoints = local_etcd->ClientEndpoints();
    SetServerPid(local_etcd->Pid(0));
    std::fprintf(stderr, "started a throwaway etcd at %s\n", local_etcd->EndpointsFlag().c_str());
  }

  // --- benchmark report ---
  env.go_peer = absl::GetFlag(FLAGS_go_peer);
  if (!env.go_peer.empty() && access(env.go_peer.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "no Go peer at %s: the scenarios run without it\n", env.go_peer.c_str());
    env.go_peer.clear();
  }
  const std::string results_path = absl::GetFlag(FLAGS_results_json);
  ResultsContext results_context;
  results_context.env = &env;
  std::vector<ScenarioResult> results;
  if (!results_path.empty()) {
    results_context.etcd_version = EtcdVersion(env.endpoints);
    results_context.started_at =
        absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  }

  int failures = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_repeat); ++round) {
    for (const Scenario* scenario : selected) {
      const absl::Time start = absl::Now();
      absl::StatusOr<std::vector<ReportFigures>> result = scenario->run(env);
      std::fprintf(stderr, "scenario %s took %.1f s\n", scenario->name.c_str(),
                   absl::ToDoubleSeconds(absl::Now() - start));
      // --- benchmark report ---
      if (!results_path.empty()) {
        results.push_back({.scenario = scenario->name,
                           .round = round,
                           .wall_seconds = absl::ToDoubleSeconds(absl::Now() - start),
                           .lines = result.ok() ? *result : std::vector<ReportFigures>{},
                           .error = result.ok() ? "" : result.status().ToString()});
        if (absl::Status s = WriteResultsJson(results_path, results_context, results); !s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          ++failures;
        }
      }
      if (!result.ok()) {
        std::fprintf(stderr, "scenario %s failed: %s\n", scenario->name.c_str(),
                     result.status().ToString().c_str());
        ++failures;
        continue;
      }
      if (result->empty()) {
        std::fprintf(stderr, "scenario %s failed: it reported nothing\n", scenario->name.c_str());
        ++failures;
        continue;
      }
      PrintComparisons(*result);
    }
  }
  if (failures > 0) std::fprintf(stderr, "%d scenario run(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace etcdgrpc::bench

int main(int argc, char** argv) { return etcdgrpc::bench::Main(argc, argv); }
