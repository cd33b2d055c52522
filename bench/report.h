// Measurement and the one-line report every benchmark scenario prints
// (docs/design.md, "Benchmarks"): wall time, latency percentiles, client CPU per
// operation from getrusage, RSS and threads of this process.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace etcdgrpc::bench {

// Process-wide resource figures at one moment.
struct ProcessSample {
  absl::Time wall;
  int64_t cpu_us = 0;    // user + system CPU of the whole process
  int64_t switches = 0;  // context switches of the whole process (voluntary + not)
  // CPU of the etcd server process (SetServerPid), -1 when none is known or it cannot be read.
  int64_t server_cpu_us = -1;
};
[[nodiscard]] ProcessSample SampleProcess();
// The etcd process whose CPU every measurement also records (the bench's own throwaway etcd;
// 0: none, with --endpoints). What the server spends per operation bounds what a client's
// workload can reach on a machine whose cores it shares.
void SetServerPid(int pid);

// For a scenario that runs on etcd processes of its own (a cluster, one etcd per run): its
// lines carry no etcd_cpu_us_per_op rather than the idle shared etcd's. Restores the shared
// etcd's pid when it goes.
class NoSharedServerCpu {
 public:
  NoSharedServerCpu();
  ~NoSharedServerCpu();
  NoSharedServerCpu(const NoSharedServerCpu&) = delete;
  NoSharedServerCpu& operator=(const NoSharedServerCpu&) = delete;

 private:
  const int saved_;
};
[[nodiscard]] double RssMb();
[[nodiscard]] int ThreadCount();

// Wall time, process CPU and per-operation latencies of the measured phase,
// which may be split in several Start()/Stop() slices (interleaved runs).
class Measurement {
 public:
  explicit Measurement(size_t expected_ops = 0) { latencies_ns_.reserve(expected_ops); }
  void Start() { slice_start_ = SampleProcess(); }
  void Stop() {
    ProcessSample now = SampleProcess();
    wall_ += now.wall - slice_start_.wall;
    cpu_us_ += now.cpu_us - slice_start_.cpu_us;
    switches_ += now.switches - slice_start_.switches;
    if (now.server_cpu_us >= slice_start_.server_cpu_us && slice_start_.server_cpu_us >= 0 &&
        server_cpu_us_ >= 0) {
      server_cpu_us_ += now.server_cpu_us - slice_start_.server_cpu_us;
    } else {
      server_cpu_us_ = -1;  // not known for every slice (no server, or it restarted)
    }
    // After the sample, so not counted: the threads while it ran, for the results file.
    max_threads_ = std::max(max_threads_, ThreadCount());
  }
  void AddLatency(absl::Duration latency) {
    latencies_ns_.push_back(absl::ToInt64Nanoseconds(latency));
    sorted_ = false;
  }
  // Takes the latencies another measurement (say, another thread's) recorded.
  void AddLatencies(const Measurement& other) {
    latencies_ns_.insert(latencies_ns_.end(), other.latencies_ns_.begin(),
                         other.latencies_ns_.end());
    sorted_ = false;
  }
  double seconds() const { return absl::ToDoubleSeconds(wall_); }
  int64_t cpu_us() const { return cpu_us_; }
  int64_t switches() const { return switches_; }
  // -1 when not known for every slice.
  int64_t server_cpu_us() const { return server_cpu_us_; }
  // Most threads of the process seen at the end of a slice; 0 before the first Stop().
  int max_threads() const { return max_threads_; }
  // Percentile (0..100) of the recorded latencies in microseconds; -1 if none.
  double PercentileUs(double percentile);

 private:
  ProcessSample slice_start_;
  absl::Duration wall_;
  int64_t cpu_us_ = 0;
  int64_t switches_ = 0;
  int64_t server_cpu_us_ = 0;
  std::vector<int64_t> latencies_ns_;
  bool sorted_ = false;
  int max_threads_ = 0;
};

// One report line. Extra fields (name=value) follow the standard ones.
struct Report {
  std::string peer = "etcd-grpc";
  std::string workload;
  int64_t ops = 0;
  std::vector<std::pair<std::string, std::string>> extra = {};
};

// The figures of a printed report, for comparisons between scenarios.
struct ReportFigures {
  std::string workload;
  double cpu_us_per_op = 0;
  double p50_us = 0;
  // --- benchmark report: the rest of the line, for the results file (results_json.h) ---
  std::string peer;
  int64_t ops = 0;
  double seconds = 0;
  double ops_per_s = 0;
  double p99_us = 0;
  double rss_mb = 0;
  // Of the process that measured, the most seen at the end of a measured slice (at the
  // report if none); not printed in the line.
  int threads = 0;
  std::vector<std::pair<std::string, std::string>> extra = {};
};

// A report line as PrintReport prints it (or the Go peer does) read back; an error if a
// standard field is missing or not a number.
[[nodiscard]] absl::StatusOr<ReportFigures> ParseReportLine(absl::string_view line);

// Prints "peer=… workload=… ops=… seconds=… ops_per_s=… p50_us=… p99_us=…
// client_cpu_us_per_op=… rss_mb=… [extra…]" to stdout.
ReportFigures PrintReport(const Report& report, Measurement& measurement);

// The etcd_cpu_us_per_op extra of `ops` operations measured by `measurement`; nothing when
// etcd's CPU is not known for all of it.
[[nodiscard]] std::optional<std::string> EtcdCpuPerOp(const Measurement& measurement, int64_t ops);

// Prints "compare workload=<ours> baseline=<baseline> cpu_ratio=… p50_ratio=…", the ratios
// the targets are stated in; nothing when the baseline has no CPU or p50 to divide by.
void PrintCompare(const ReportFigures& ours, const ReportFigures& baseline);

}  // namespace etcdgrpc::bench
