#include "report.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

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

}  // namespace

ProcessSample SampleProcess() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000 + tv.tv_usec; };
  return ProcessSample{.wall = absl::Now(),
                       .cpu_us = micros(usage.ru_utime) + micros(usage.ru_stime)};
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
  std::string line = absl::StrFormat(
      "peer=%s workload=%s ops=%d seconds=%.3f ops_per_s=%.0f p50_us=%.1f p99_us=%.1f "
      "client_cpu_us_per_op=%.2f rss_mb=%.1f",
      report.peer, report.workload, report.ops, seconds, seconds > 0 ? ops / seconds : 0, p50,
      measurement.PercentileUs(99), cpu_per_op, RssMb());
  for (const auto& [name, value] : report.extra) absl::StrAppend(&line, " ", name, "=", value);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  return ReportFigures{.workload = report.workload, .cpu_us_per_op = cpu_per_op, .p50_us = p50};
}

}  // namespace etcdgrpc::bench
