// Registry scenarios: sequential register + deregister churn, and 1,000 live
// registrations idling in one process (threads, RSS, CPU, renewals).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registrar.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

registry::ServiceInstance Instance(const std::string& service, int64_t i) {
  return registry::ServiceInstance{
      .service = service,
      .id = absl::StrCat("i", i),
      .address = absl::StrCat("10.0.", i / 250, ".", i % 250, ":50051"),
      .metadata = {{"weight", "10"}, {"zone", "eu-1"}}};
}

// One operation = Register (Grant + guarded Txn, keep + watch) followed by
// Deregister (delete + revoke, keep and watch stopped) of a new instance.
absl::StatusOr<std::vector<ReportFigures>> RegisterChurn(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  registry::RegistrarOptions options;
  options.prefix = "/bench/register_churn";
  options.ttl = absl::Seconds(10);
  registry::Registrar registrar(**client, options);
  // Warm up: the keep-alive and watch streams open, the scheduler starts.
  for (int64_t i = 0; i < 20; ++i) {
    absl::StatusOr<registry::Registration> r = registrar.Register(Instance("warmup", i));
    if (!r.ok()) return r.status();
    if (absl::Status s = r->Deregister(); !s.ok()) return s;
  }
  const int64_t count = env.Scaled(1000);
  Measurement measurement(static_cast<size_t>(count));
  measurement.Start();
  for (int64_t i = 0; i < count; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<registry::Registration> r = registrar.Register(Instance("churn", i));
    if (!r.ok()) return r.status();
    if (absl::Status s = r->Deregister(); !s.ok()) return s;
    measurement.AddLatency(absl::Now() - start);
  }
  measurement.Stop();
  const ::etcdgrpc::KeepAliveStreamStats leases = (*client)->stats().keepalive;
  const ::etcdgrpc::WatchStreamStats watches = (*client)->stats().watch;
  return std::vector<ReportFigures>{
      PrintReport({.workload = "register_churn",
                   .ops = count,
                   .extra = {{"keepalive_streams", absl::StrCat(leases.opens)},
                             {"watch_streams", absl::StrCat(watches.opens)},
                             {"threads", absl::StrCat(ThreadCount())}}},
                  measurement)};
}

// 1,000 registrations (TTL 30 s) doing nothing but staying registered: one
// keep-alive stream, one watch stream, one registrar thread; CPU is the
// renewals' (each lease renewed every TTL/3).
absl::StatusOr<std::vector<ReportFigures>> RegistrationsIdle(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  constexpr int64_t kTtl = 30;
  const int64_t count = env.Scaled(1000);
  registry::RegistrarOptions options;
  options.prefix = "/bench/registrations_idle";
  options.ttl = absl::Seconds(kTtl);
  registry::Registrar registrar(**client, options);
  const double rss_before = RssMb();
  std::vector<registry::Registration> registrations;
  registrations.reserve(static_cast<size_t>(count));
  absl::StatusOr<registry::Registration> first = registrar.Register(Instance("idle", 0));
  if (!first.ok()) return first.status();
  registrations.push_back(*std::move(first));
  absl::SleepFor(absl::Milliseconds(500));
  const int threads_one = ThreadCount();
  const double rss_one = RssMb();
  const absl::Time register_start = absl::Now();
  for (int64_t i = 1; i < count; ++i) {
    absl::StatusOr<registry::Registration> r = registrar.Register(Instance("idle", i));
    if (!r.ok()) return r.status();
    registrations.push_back(*std::move(r));
  }
  const absl::Duration register_time = absl::Now() - register_start;
  absl::SleepFor(absl::Seconds(2));  // let the first renewals settle
  const uint64_t sent_before = (*client)->stats().keepalive.requests_sent;
  // A whole number of renewal intervals (30 s at scale 1).
  const absl::Duration interval = absl::Seconds(kTtl) / 3;
  const double intervals =
      std::max(1.0, std::round(absl::ToDoubleSeconds(absl::Seconds(30) * env.scale) /
                               absl::ToDoubleSeconds(interval)));
  Measurement measurement;
  measurement.Start();
  absl::SleepFor(interval * intervals);
  measurement.Stop();
  const ::etcdgrpc::KeepAliveStreamStats leases = (*client)->stats().keepalive;
  const ::etcdgrpc::WatchStreamStats watches = (*client)->stats().watch;
  int64_t registered = 0;
  for (const registry::Registration& r : registrations) {
    const registry::RegistrationState state = r.state();
    if (state == registry::RegistrationState::kRegistered ||
        state == registry::RegistrationState::kReregistered) {
      ++registered;
    }
  }
  const double cpu_pct =
      100.0 * static_cast<double>(measurement.cpu_us()) / (measurement.seconds() * 1e6);
  const double per_registration_interval =
      static_cast<double>(leases.requests_sent - sent_before) / (count * intervals);
  Report report{
      .workload = "registrations_idle_1k",
      .ops = static_cast<int64_t>(leases.requests_sent - sent_before),
      .extra = {{"registrations", absl::StrCat(count)},
                {"registered", absl::StrCat(registered)},
                {"register_s", absl::StrFormat("%.2f", absl::ToDoubleSeconds(register_time))},
                {"threads_1_registration", absl::StrCat(threads_one)},
                {"threads", absl::StrCat(ThreadCount())},
                {"rss_mb_before", absl::StrFormat("%.1f", rss_before)},
                {"rss_kib_per_registration",
                 absl::StrFormat("%.2f", count > 1 ? (RssMb() - rss_one) * 1024 / (count - 1) : 0)},
                {"cpu_pct_one_core", absl::StrFormat("%.2f", cpu_pct)},
                {"requests_per_registration_per_interval",
                 absl::StrFormat("%.3f", per_registration_interval)},
                {"keepalive_streams", absl::StrCat(leases.opens)},
                {"watch_streams", absl::StrCat(watches.opens)}}};
  std::vector<ReportFigures> figures{PrintReport(report, measurement)};
  registrations.clear();  // deregisters each
  return figures;
}

}  // namespace

void RegisterRegistryScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"register_churn",
                       "Register + Deregister of 1000 instances sequentially (TTL 10)",
                       RegisterChurn});
  scenarios.push_back({"registrations_idle_1k",
                       "1000 live registrations (TTL 30) idle for 30 s: threads, RSS, CPU",
                       RegistrationsIdle});
}

}  // namespace etcdgrpc::bench
