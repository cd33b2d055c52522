#include "results_json.h"

#include <sys/utsname.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::bench {
namespace {

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, "model name")) continue;
    if (size_t colon = rest.find(':'); colon != absl::string_view::npos) {
      return std::string(absl::StripAsciiWhitespace(rest.substr(colon + 1)));
    }
  }
  return "unknown";
}

nlohmann::json Machine() {
  utsname names{};
  uname(&names);
  return {{"cpu_model", CpuModel()},
          {"cores", std::thread::hardware_concurrency()},
          {"kernel", absl::StrCat(names.sysname, " ", names.release, " ", names.machine)},
          {"hostname", names.nodename}};
}

std::string Compiler() {
#if defined(__clang__)
  return absl::StrCat("clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("g++ ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

nlohmann::json Figures(const ReportFigures& figures) {
  nlohmann::json extra = nlohmann::json::object();
  for (const auto& [name, value] : figures.extra) extra[name] = value;
  return {{"peer", figures.peer},
          {"workload", figures.workload},
          {"ops", figures.ops},
          {"seconds", figures.seconds},
          {"ops_per_s", figures.ops_per_s},
          {"p50_us", figures.p50_us},
          {"p99_us", figures.p99_us},
          {"client_cpu_us_per_op", figures.cpu_us_per_op},
          {"rss_mb", figures.rss_mb},
          {"threads", figures.threads},
          {"extra", extra}};
}

}  // namespace

absl::Status WriteResultsJson(const std::string& path, const ResultsContext& context,
                              const std::vector<ScenarioResult>& results) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (const ScenarioResult& result : results) {
    nlohmann::json lines = nlohmann::json::array();
    for (const ReportFigures& figures : result.lines) lines.push_back(Figures(figures));
    scenarios.push_back({{"scenario", result.scenario},
                         {"round", result.round},
                         {"wall_seconds", result.wall_seconds},
                         {"error", result.error},
                         {"lines", lines}});
  }
  const int protobuf = GOOGLE_PROTOBUF_VERSION;
  nlohmann::json document = {
      {"format", "etcdgrpc-bench-results/1"},
      {"started_at", context.started_at},
      {"scale", context.env->scale},
      {"endpoints", context.env->endpoints},
      {"machine", Machine()},
      {"versions",
       {{"etcd", context.etcd_version},
        {"grpc", grpc::Version()},
        {"protobuf",
         absl::StrCat(protobuf / 1000000, ".", protobuf / 1000 % 1000, ".", protobuf % 1000)},
        {"compiler", Compiler()},
        {"go_peer", context.env->go_peer.empty() ? "not built" : context.env->go_peer}}},
      {"scenarios", scenarios}};
  // Written beside and renamed, so that a reader never sees half a file.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
    out << document.dump(2) << "\n";
    if (!out.good()) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error)
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace etcdgrpc::bench
