// Failover scenarios: a 3-member cluster behind fault proxies, 2,000 kept
// leases (TTL 6 s), a watch, registrations and a resolver view (GrayWorkload);
// the member the keep-alive stream is on is frozen, black-holed or partitioned,
// and each run measures the time from the fault to the first renewal answered
// by another member. Ignores --endpoints: it needs a cluster it can fault.
#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gray_workload.h"
#include "local_etcd.h"
#include "report.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

using testing::BlackHole;
using testing::GrayWorkload;
using testing::LocalEtcd;

enum class Fault { kFreeze, kBlackHole, kPartition };

absl::Status Inject(LocalEtcd& etcd, Fault fault, int member) {
  switch (fault) {
    case Fault::kFreeze:
      return etcd.Pause(member);
    case Fault::kBlackHole:
      return etcd.BlackHoleClient(member, BlackHole::kStall);
    case Fault::kPartition:
      return etcd.Partition(member);
  }
  return absl::InternalError("unknown fault");
}

absl::Status Repair(LocalEtcd& etcd, Fault fault, int member) {
  switch (fault) {
    case Fault::kFreeze:
      return etcd.Resume(member);
    case Fault::kBlackHole:
      return etcd.PassClient(member);
    case Fault::kPartition:
      return etcd.Heal(member);
  }
  return absl::InternalError("unknown fault");
}

absl::StatusOr<std::vector<ReportFigures>> Failover(const BenchEnv& env) {
  const NoSharedServerCpu own_cluster;
  testing::LocalEtcdOptions etcd_options;
  etcd_options.members = 3;
  etcd_options.fault_proxies = true;
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(etcd_options);
  if (!etcd.ok()) return etcd.status();
  testing::GrayWorkloadOptions options;
  options.client.endpoints = (*etcd)->ClientEndpoints();
  options.client.request_timeout = absl::Seconds(2);
  options.writer.endpoints.clear();  // not the default 127.0.0.1:2379
  for (int i = 0; i < 3; ++i) options.writer.endpoints.push_back((*etcd)->DirectClientEndpoint(i));
  options.writer.request_timeout = absl::Seconds(2);
  options.leases = static_cast<int>(env.Scaled(2000));
  options.lease_ttl_seconds = 6;
  options.watches = 1;
  // etcd renews and revokes leases only through a leader: losses while no
  // majority agreed on one (an election under load) are etcd's, not ours.
  options.monitor_endpoints = options.writer.endpoints;
  absl::StatusOr<std::unique_ptr<GrayWorkload>> workload = GrayWorkload::Start(options);
  if (!workload.ok()) return workload.status();
  absl::SleepFor(absl::Seconds(2));

  std::vector<ReportFigures> figures;
  absl::BitGen random;
  const int64_t runs = env.Scaled(10);
  const std::pair<Fault, const char*> faults[] = {{Fault::kFreeze, "failover_freeze"},
                                                  {Fault::kBlackHole, "failover_blackhole"},
                                                  {Fault::kPartition, "failover_partition"}};
  const int64_t all_runs = static_cast<int64_t>(std::size(faults)) * runs;
  // All three faults together: the line named after the scenario.
  Measurement all(static_cast<size_t>(all_runs));
  all.Start();
  auto max_ms = [](Measurement& m) { return absl::StrFormat("%.0f", m.PercentileUs(100) / 1000); };
  for (const auto& [fault, name] : faults) {
    Measurement measurement(static_cast<size_t>(runs));
    int leaders = 0;
    measurement.Start();
    for (int64_t run = 0; run < runs; ++run) {
      const std::string endpoint = (*workload)->client().stats().keepalive.endpoint;
      int member = -1;
      for (int i = 0; i < 3; ++i) {
        if ((*etcd)->ClientEndpoint(i) == endpoint) member = i;
      }
      if (member < 0) return absl::InternalError("keep-alive stream on no known member");
      absl::StatusOr<int> leader = (*etcd)->Leader();
      const bool on_leader = leader.ok() && *leader == member;
      if (on_leader) ++leaders;
      // After a failover every lease is renewed at once, so renewals come in
      // one burst per interval (2 s); a fault is only seen once renewals are
      // outstanding. Land the fault anywhere in that interval.
      absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 0, 2000)));
      (*workload)->Mark();
      if (absl::Status s = Inject(**etcd, fault, member); !s.ok()) return s;
      for (absl::Time until = absl::Now() + absl::Seconds(10);
           !(*workload)->FirstRenewalAfterMark().has_value() && absl::Now() < until;) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      const std::optional<absl::Duration> first = (*workload)->FirstRenewalAfterMark();
      absl::SleepFor(absl::Seconds(2));  // the rest of the failover settles
      if (absl::Status s = Repair(**etcd, fault, member); !s.ok()) return s;
      if (fault == Fault::kFreeze && on_leader) (*workload)->StaleLeaderResumed();
      if (!first.has_value()) {
        return absl::DeadlineExceededError(
            absl::StrCat(name, ": no renewal within 10 s of the fault"));
      }
      measurement.AddLatency(*first);
      // The member catches up, and the cluster settles: a member back from a
      // partition forces an election a moment later, and a fault during it
      // would measure etcd's election, not the client's failover.
      if (absl::StatusOr<int> settled = (*etcd)->Settled(absl::Seconds(30)); !settled.ok()) {
        return settled.status();
      }
      absl::SleepFor(absl::Seconds(2));
    }
    measurement.Stop();
    all.AddLatencies(measurement);
    figures.push_back(PrintReport(Report{.workload = name,
                                         .ops = runs,
                                         .extra = {{"first_renewal_max_ms", max_ms(measurement)},
                                                   {"on_leader", absl::StrCat(leaders)},
                                                   {"leases", absl::StrCat(options.leases)}}},
                                  measurement));
  }
  all.Stop();  // the runs only, like the per-fault lines: not the settling in Finish
  const testing::GrayReport report = (*workload)->Finish(absl::Seconds(30));
  std::printf("failover workload: %s\n", report.Summary().c_str());
  figures.push_back(
      PrintReport(Report{.workload = "failover",
                         .ops = all_runs,
                         .extra = {{"first_renewal_max_ms", max_ms(all)},
                                   {"violations", absl::StrCat(report.violations.size())},
                                   {"leases_lost", absl::StrCat(report.leases_lost)},
                                   {"leases", absl::StrCat(options.leases)}}},
                  all));
  if (!report.violations.empty()) {
    return absl::InternalError(absl::StrCat("failover: ", report.violations.size(),
                                            " violations, first: ", report.violations[0]));
  }
  return figures;
}

}  // namespace

void RegisterFailoverScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back(
      {"failover",
       "3 members behind fault proxies, 2,000 leases (TTL 6 s): the keep-alive stream's member "
       "frozen / black-holed / partitioned 10 times each; p50/p99 = fault to first renewal "
       "elsewhere, per fault and over all three (failover); own cluster, ignores --endpoints",
       Failover});
}

}  // namespace etcdgrpc::bench
