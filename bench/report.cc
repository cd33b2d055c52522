#include "report.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "proc_stat.h"

namespace etcdgrpc::bench {
namespace {

// A numeric field of /proc/self/status, e.g. "VmRSS:   1234 kB" -> 1234.
int64_t ProcStatusField(absl::string_view name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, name) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t value = 0;
    if (absl::SimpleAtoi(rest, &value)) return value;
  }
  return -1;
}

std::atomic<int> g_server_pid{0};

}  // namespace

void SetServerPid(int pid) { g_server_pid.store(pid, std::memory_order_relaxed); }

NoSharedServerCpu::NoSharedServerCpu() : saved_(g_server_pid.exchange(0)) {}

NoSharedServerCpu::~NoSharedServerCpu() { g_server_pid.store(saved_); }

ProcessSample SampleProcess() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000 + tv.tv_usec; };
  const int server = g_server_pid.load(std::memory_order_relaxed);
  return ProcessSample{.wall = absl::Now(),
                       .cpu_us = micros(usage.ru_utime) + micros(usage.ru_stime),
                       .switches = usage.ru_nvcsw + usage.ru_nivcsw,
                       .server_cpu_us = server > 0 ? testing::ProcessCpuMicros(server) : -1};
}

double RssMb() { return static_cast<double>(ProcStatusField("VmRSS")) / 1024.0; }

int ThreadCount() { return static_cast<int>(ProcStatusField("Threads")); }

double Measurement::PercentileUs(double percentile) {
  if (latencies_ns_.empty()) return -1;
  if (!sorted_) {
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    sorted_ = true;
  }
  size_t index = static_cast<size_t>(percentile / 100.0 * (latencies_ns_.size() - 1) + 0.5);
  return static_cast<double>(latencies_ns_[std::min(index, latencies_ns_.size() - 1)]) / 1000.0;
}

ReportFigures PrintReport(const Report& report, Measurement& measurement) {
  const double seconds = measurement.seconds();
  const double ops = static_cast<double>(report.ops);
  const double cpu_per_op = report.ops > 0 ? static_cast<double>(measurement.cpu_us()) / ops : 0;
  const double p50 = measurement.PercentileUs(50);
  const double p99 = measurement.PercentileUs(99);
  const double ops_per_s = seconds > 0 ? ops / seconds : 0;
  const double rss_mb = RssMb();
  std::string line = absl::StrFormat(
      "peer=%s workload=%s ops=%d seconds=%.3f ops_per_s=%.0f p50_us=%.1f p99_us=%.1f "
      "client_cpu_us_per_op=%.2f rss_mb=%.1f",
      report.peer, report.workload, report.ops, seconds, ops_per_s, p50, p99, cpu_per_op, rss_mb);
  auto extra = report.extra;
  // Context switches explain much of a CPU difference on a VM (each costs microseconds):
  // an extra field, after the scenario's own.
  if (report.ops > 0 && measurement.switches() > 0) {
    extra.emplace_back("switches_per_op",
                       absl::StrFormat("%.3f", static_cast<double>(measurement.switches()) / ops));
  }
  if (std::optional<std::string> etcd_cpu = EtcdCpuPerOp(measurement, report.ops)) {
    extra.emplace_back("etcd_cpu_us_per_op", *std::move(etcd_cpu));
  }
  for (const auto& [name, value] : extra) absl::StrAppend(&line, " ", name, "=", value);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  return ReportFigures{
      .workload = report.workload,
      .cpu_us_per_op = cpu_per_op,
      .p50_us = p50,
      .peer = report.peer,
      .ops = report.ops,
      .seconds = seconds,
      .ops_per_s = ops_per_s,
      .p99_us = p99,
      .rss_mb = rss_mb,
      .threads = measurement.max_threads() > 0 ? measurement.max_threads() : ThreadCount(),
      .extra = std::move(extra)};
}

std::optional<std::string> EtcdCpuPerOp(const Measurement& measurement, int64_t ops) {
  if (ops <= 0 || measurement.server_cpu_us() <= 0) return std::nullopt;
  return absl::StrFormat(
      "%.2f", static_cast<double>(measurement.server_cpu_us()) / static_cast<double>(ops));
}

void PrintCompare(const ReportFigures& ours, const ReportFigures& baseline) {
  if (baseline.cpu_us_per_op <= 0 || baseline.p50_us <= 0) return;
  std::printf("compare workload=%s baseline=%s cpu_ratio=%.2f p50_ratio=%.2f\n",
              ours.workload.c_str(), baseline.workload.c_str(),
              ours.cpu_us_per_op / baseline.cpu_us_per_op, ours.p50_us / baseline.p50_us);
}

absl::StatusOr<ReportFigures> ParseReportLine(absl::string_view line) {
  ReportFigures figures;
  std::vector<std::pair<std::string, std::string>> fields;
  for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> pair = absl::StrSplit(field, absl::MaxSplits('=', 1));
    fields.push_back(std::move(pair));
  }
  // The standard fields, in the order PrintReport prints them; the rest are extra.
  struct Number {
    const char* name;
    double* value;
  };
  double ops = 0;
  double threads = -1;
  const Number numbers[] = {{"ops", &ops},
                            {"seconds", &figures.seconds},
                            {"ops_per_s", &figures.ops_per_s},
                            {"p50_us", &figures.p50_us},
                            {"p99_us", &figures.p99_us},
                            {"client_cpu_us_per_op", &figures.cpu_us_per_op},
                            {"rss_mb", &figures.rss_mb}};
  bool have_peer = false;
  bool have_workload = false;
  size_t have_numbers = 0;
  for (auto& field : fields) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& name = field.first;
    std::string& value = field.second;
    if (name == "peer") {
      figures.peer = value;
      have_peer = true;
      continue;
    }
    if (name == "workload") {
      figures.workload = value;
      have_workload = true;
      continue;
    }
    const auto* number = std::find_if(std::begin(numbers), std::end(numbers),
                                      [&](const Number& n) { return name == n.name; });
    if (number != std::end(numbers)) {
      if (!absl::SimpleAtod(value, number->value)) {
        return absl::InvalidArgumentError(absl::StrCat("not a number: ", name, "=", value));
      }
      ++have_numbers;
      continue;
    }
    // The Go peer's "threads" is its process's, as ReportFigures::threads is ours.
    if (name == "threads" && figures.peer == "go-clientv3" && absl::SimpleAtod(value, &threads)) {
      figures.threads = static_cast<int>(threads);
    }
    figures.extra.emplace_back(name, value);
  }
  if (!have_peer || !have_workload || have_numbers != std::size(numbers)) {
    return absl::InvalidArgumentError(absl::StrCat("not a report line: ", line));
  }
  figures.ops = static_cast<int64_t>(ops);
  return figures;
}

}  // namespace etcdgrpc::bench
