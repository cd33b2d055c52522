// etcdgrpc-chaos: a soak that hunts for what the tests miss. A 3-member
// cluster behind fault proxies, a client carrying kept leases, watches,
// registrations and a resolver view (GrayWorkload), and random faults, one at
// a time: freeze, kill, restart, client-side black hole, partition, delay, and
// now and then the loss of a majority. The workload checks its invariants all
// along; this prints every fault it injects and every violation, with times,
// and exits non-zero if there was any. `./dev chaos [--minutes N]` runs it.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gray_workload.h"
#include "local_etcd.h"

ABSL_FLAG(double, minutes, 2.0, "how long to inject faults");
ABSL_FLAG(uint64_t, seed, 0, "random seed (0: from the clock); printed so a run can be repeated");
ABSL_FLAG(int, leases, 1000, "kept leases");
ABSL_FLAG(int64_t, ttl, 6, "lease TTL in seconds");
ABSL_FLAG(int, watches, 3, "watches of the written prefix");
ABSL_FLAG(int, registrations, 5, "registrations");
ABSL_FLAG(bool, trace, false, "print the client's stream counters every second");
ABSL_FLAG(std::string, faults, "",
          "comma-separated fault kinds to draw from (freeze, kill, restart, blackhole-drop, "
          "blackhole-stall, partition, delay, majority); empty: all");

namespace etcdgrpc::testing {
namespace {

enum class Kind {
  kFreeze,
  kKill,
  kRestart,
  kBlackHoleDrop,
  kBlackHoleStall,
  kPartition,
  kDelay,
  kMajority
};

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kFreeze:
      return "freeze";
    case Kind::kKill:
      return "kill";
    case Kind::kRestart:
      return "restart";
    case Kind::kBlackHoleDrop:
      return "black-hole (drop)";
    case Kind::kBlackHoleStall:
      return "black-hole (stall)";
    case Kind::kPartition:
      return "partition";
    case Kind::kDelay:
      return "delay";
    case Kind::kMajority:
      return "majority outage";
  }
  return "?";
}

class Chaos {
 public:
  Chaos(LocalEtcd& etcd, GrayWorkload& workload, uint64_t seed, absl::Time start)
      : etcd_(etcd), workload_(workload), random_(seed), start_(start) {}

  void Log(const std::string& text) {
    std::printf("[%7.1fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start_), text.c_str());
    std::fflush(stdout);
  }

  bool Check(const absl::Status& status, const std::string& what) {
    if (status.ok()) return true;
    Log(absl::StrCat("fixture error while ", what, ": ", status.ToString()));
    ++fixture_errors_;
    return false;
  }

  double Uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(random_); }

  int StreamMember() {
    const std::string endpoint = workload_.client().stats().keepalive.endpoint;
    for (int i = 0; i < etcd_.size(); ++i) {
      if (etcd_.ClientEndpoint(i) == endpoint) return i;
    }
    return -1;
  }

  // Restricts the draw to the kinds named (flag --faults).
  bool Only(const std::string& names) {
    static const std::pair<const char*, Kind> kNames[] = {
        {"freeze", Kind::kFreeze},
        {"kill", Kind::kKill},
        {"restart", Kind::kRestart},
        {"blackhole-drop", Kind::kBlackHoleDrop},
        {"blackhole-stall", Kind::kBlackHoleStall},
        {"partition", Kind::kPartition},
        {"delay", Kind::kDelay},
        {"majority", Kind::kMajority}};
    for (absl::string_view name : absl::StrSplit(names, ',', absl::SkipEmpty())) {
      bool found = false;
      for (const auto& [known, kind] : kNames) {
        if (name == known) {
          only_.push_back(kind);
          found = true;
        }
      }
      if (!found) {
        std::fprintf(stderr, "etcdgrpc-chaos: unknown fault kind \"%s\"\n",
                     std::string(name).c_str());
        return false;
      }
    }
    return true;
  }

  Kind Draw() {
    if (!only_.empty()) {
      return only_[std::uniform_int_distribution<size_t>(0, only_.size() - 1)(random_)];
    }
    static constexpr Kind kKinds[] = {Kind::kFreeze,        Kind::kKill,           Kind::kRestart,
                                      Kind::kBlackHoleDrop, Kind::kBlackHoleStall, Kind::kPartition,
                                      Kind::kDelay};
    return Uniform(0, 1) < 0.08 ? Kind::kMajority
                                : kKinds[std::uniform_int_distribution<>(0, 6)(random_)];
  }

  void RunOne() {
    const Kind kind = Draw();
    // Half of the faults hit the member the client's streams are on.
    const int on_streams = StreamMember();
    const int member = (on_streams >= 0 && Uniform(0, 1) < 0.5)
                           ? on_streams
                           : std::uniform_int_distribution<>(0, etcd_.size() - 1)(random_);
    absl::StatusOr<int> leader = etcd_.Leader(absl::Seconds(5));
    const absl::Duration length = absl::Seconds(Uniform(2, 12));
    const std::string role = absl::StrCat(leader.ok() && *leader == member ? "leader" : "follower",
                                          member == on_streams ? ", client streams on it" : "");
    ++counts_[static_cast<int>(kind)];
    switch (kind) {
      case Kind::kFreeze:
        Log(absl::StrFormat("freeze member %d (%s) for %s", member, role,
                            absl::FormatDuration(length)));
        {
          // A stale leader frozen again before its revocations went through
          // sends them after this resume instead (seen: 9 s after it).
          const bool stale =
              (leader.ok() && *leader == member) || absl::Now() < stale_until_[member];
          if (!Check(etcd_.Pause(member), "freezing")) return;
          absl::SleepFor(length);
          Check(etcd_.Resume(member), "resuming");
          if (stale) {
            workload_.StaleLeaderResumed();
            stale_until_[member] = absl::Now() + workload_.stale_leader_window();
          }
          break;
        }
      case Kind::kKill:
        Log(absl::StrFormat("kill member %d (%s), restart after %s", member, role,
                            absl::FormatDuration(length)));
        if (!Check(etcd_.Kill(member), "killing")) return;
        absl::SleepFor(length);
        Check(etcd_.Restart(member), "restarting");
        break;
      case Kind::kRestart:
        Log(absl::StrFormat("restart member %d (%s)", member, role));
        Check(etcd_.Restart(member), "restarting");
        break;
      case Kind::kBlackHoleDrop:
      case Kind::kBlackHoleStall:
        Log(absl::StrFormat("%s client side of member %d (%s) for %s", KindName(kind), member, role,
                            absl::FormatDuration(length)));
        if (!Check(etcd_.BlackHoleClient(
                       member, kind == Kind::kBlackHoleDrop ? BlackHole::kDrop : BlackHole::kStall),
                   "black-holing")) {
          return;
        }
        absl::SleepFor(length);
        Check(etcd_.PassClient(member), "passing");
        break;
      case Kind::kPartition:
        Log(absl::StrFormat("partition member %d (%s) for %s", member, role,
                            absl::FormatDuration(length)));
        if (!Check(etcd_.Partition(member), "partitioning")) return;
        absl::SleepFor(length);
        Check(etcd_.Heal(member), "healing");
        break;
      case Kind::kDelay: {
        const absl::Duration delay = absl::Milliseconds(Uniform(50, 800));
        Log(absl::StrFormat("delay member %d (%s) by %s for %s", member, role,
                            absl::FormatDuration(delay), absl::FormatDuration(length)));
        if (!Check(etcd_.DelayClient(member, delay), "delaying")) return;
        absl::SleepFor(length);
        Check(etcd_.PassClient(member), "passing");
        break;
      }
      case Kind::kMajority: {
        const int other = (member + 1) % etcd_.size();
        Log(absl::StrFormat("majority outage: kill members %d and %d for %s", member, other,
                            absl::FormatDuration(length)));
        workload_.SetOutage(true);
        Check(etcd_.Kill(member), "killing");
        Check(etcd_.Kill(other), "killing");
        absl::SleepFor(length);
        Check(etcd_.RestartAll(), "restarting all");
        workload_.SetOutage(false);
        break;
      }
    }
    Log("  repaired");
  }

  // With --trace, prints the client's stream counters every second.
  void StartTrace() {
    trace_ = std::thread([this] {
      KeepAliveStreamStats last;
      while (!stop_.load()) {
        const ClientStats stats = workload_.client().stats();
        Log(
            absl::StrFormat("  keep-alive %s on %s: +%d sent +%d answered, %d stalls, %d opens; "
                            "watch %s on %s",
                            stats.keepalive.state, stats.keepalive.endpoint,
                            stats.keepalive.requests_sent - last.requests_sent,
                            stats.keepalive.responses - last.responses, stats.keepalive.stalls,
                            stats.keepalive.opens, stats.watch.state, stats.watch.endpoint));
        last = stats.keepalive;
        absl::SleepFor(absl::Seconds(1));
      }
    });
  }

  void StopTrace() {
    stop_.store(true);
    if (trace_.joinable()) trace_.join();
  }

  int fixture_errors() const { return fixture_errors_; }
  std::string Counts() const {
    std::string out;
    for (int i = 0; i < 8; ++i) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", KindName(static_cast<Kind>(i)), " ",
                      counts_[i]);
    }
    return out;
  }

 private:
  LocalEtcd& etcd_;
  GrayWorkload& workload_;
  std::mt19937_64 random_;
  const absl::Time start_;
  int fixture_errors_ = 0;
  int counts_[8] = {};
  // Until when a member that resumed as a stale leader may still send its
  // revocations (GrayWorkload::StaleLeaderResumed), per member.
  std::map<int, absl::Time> stale_until_;
  std::vector<Kind> only_;
  std::thread trace_;
  std::atomic<bool> stop_{false};
};

int Main() {
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (seed == 0) seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  const absl::Duration run = absl::Seconds(absl::GetFlag(FLAGS_minutes) * 60);
  std::printf(
      "etcdgrpc-chaos: seed=%llu minutes=%.1f leases=%d ttl=%llds watches=%d "
      "registrations=%d\n",
      static_cast<unsigned long long>(seed), absl::GetFlag(FLAGS_minutes),
      absl::GetFlag(FLAGS_leases), static_cast<long long>(absl::GetFlag(FLAGS_ttl)),
      absl::GetFlag(FLAGS_watches), absl::GetFlag(FLAGS_registrations));
  LocalEtcdOptions etcd_options;
  etcd_options.members = 3;
  etcd_options.fault_proxies = true;
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(etcd_options);
  if (!etcd.ok()) {
    std::fprintf(stderr, "etcdgrpc-chaos: %s\n", etcd.status().ToString().c_str());
    return 2;
  }
  GrayWorkloadOptions options;
  options.client.endpoints = (*etcd)->ClientEndpoints();
  options.client.request_timeout = absl::Seconds(2);
  options.client.dial_timeout = absl::Seconds(5);
  options.writer.endpoints.clear();  // not the default 127.0.0.1:2379
  for (int i = 0; i < (*etcd)->size(); ++i) {
    options.writer.endpoints.push_back((*etcd)->DirectClientEndpoint(i));
  }
  options.writer.request_timeout = absl::Seconds(2);
  options.writer.dial_timeout = absl::Seconds(5);
  options.leases = absl::GetFlag(FLAGS_leases);
  options.lease_ttl_seconds = absl::GetFlag(FLAGS_ttl);
  options.watches = absl::GetFlag(FLAGS_watches);
  options.registrations = absl::GetFlag(FLAGS_registrations);
  options.monitor_endpoints = options.writer.endpoints;
  const absl::Time start = absl::Now();
  options.log = [start](const std::string& text) {
    std::printf("[%7.1fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start), text.c_str());
    std::fflush(stdout);
  };
  absl::StatusOr<std::unique_ptr<GrayWorkload>> workload = GrayWorkload::Start(options);
  if (!workload.ok()) {
    std::fprintf(stderr, "etcdgrpc-chaos: %s\n", workload.status().ToString().c_str());
    return 2;
  }
  Chaos chaos(**etcd, **workload, seed, start);
  if (!chaos.Only(absl::GetFlag(FLAGS_faults))) return 2;
  if (absl::GetFlag(FLAGS_trace)) chaos.StartTrace();
  chaos.Log("workload running");
  const absl::Time end = absl::Now() + run;
  while (absl::Now() < end) {
    chaos.RunOne();
    absl::SleepFor(absl::Seconds(chaos.Uniform(1, 4)));  // calm between faults
  }
  chaos.Log("faults done; settling");
  chaos.StopTrace();
  const GrayReport report = (*workload)->Finish(absl::Seconds(60));
  chaos.Log(absl::StrCat("faults injected: ", chaos.Counts()));
  chaos.Log(report.Summary());
  const bool failed = !report.violations.empty() || chaos.fixture_errors() > 0;
  std::printf("etcdgrpc-chaos: %s (%zu violations, %d fixture errors, seed %llu)\n",
              failed ? "FAILED" : "OK", report.violations.size(), chaos.fixture_errors(),
              static_cast<unsigned long long>(seed));
  for (const std::string& violation : report.violations) std::printf("  %s\n", violation.c_str());
  workload->reset();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace etcdgrpc::testing

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "etcdgrpc-chaos [--minutes N] [--seed S]: random faults against "
      "a 3-member cluster while the client's invariants are checked");
  absl::ParseCommandLine(argc, argv);
  return etcdgrpc::testing::Main();
}
