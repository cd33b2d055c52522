// Resolver scenarios: the cost of a pick under each policy (one thread, then
// two), how fast a registration reaches the resolver's snapshot, and what
// following 1,000 services costs one process.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/resolver.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

using resolver::Balancer;
using resolver::Policy;

std::string UniquePrefix(const std::string& scenario) {
  return absl::StrCat("/bench/", scenario, "/", absl::ToUnixNanos(absl::Now()));
}

// Writes `count` native records of `service` (addresses that are never
// dialled: picks do not connect).
absl::Status WriteEndpoints(Client& client, const std::string& prefix, const std::string& service,
                            int count, bool weighted) {
  auto codec = registry::NativeCodec();
  for (int i = 0; i < count; ++i) {
    registry::ServiceInstance instance{
        .service = service,
        .id = absl::StrCat("i", i),
        .address = absl::StrCat("127.0.0.1:", 20000 + i),
        .metadata = {{"weight", absl::StrCat(weighted ? i + 1 : 1)}, {"zone", "z1"}}};
    absl::StatusOr<std::string> value = codec->Encode(instance);
    if (!value.ok()) return value.status();
    absl::StatusOr<PutResult> put = client.Put(codec->Key(prefix, instance), *value);
    if (!put.ok()) return put.status();
  }
  return absl::OkStatus();
}

// Picks (and releases) `picks` times on each of `threads` threads.
double NsPerPick(Balancer& balancer, int threads, int64_t picks, std::atomic<int64_t>& failures) {
  std::vector<std::thread> workers;
  std::atomic<int64_t> total_ns{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      const absl::Time start = absl::Now();
      for (int64_t i = 0; i < picks; ++i) {
        absl::StatusOr<resolver::PickResult> pick = balancer.Pick();
        if (!pick.ok()) failures.fetch_add(1, std::memory_order_relaxed);
      }
      total_ns.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start));
    });
  }
  for (auto& worker : workers) worker.join();
  return static_cast<double>(total_ns.load()) / static_cast<double>(threads * picks);
}

absl::StatusOr<std::vector<ReportFigures>> PickBench(const BenchEnv& env, const std::string& name,
                                                     Policy policy) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string prefix = UniquePrefix(name);
  if (absl::Status s =
          WriteEndpoints(**client, prefix, "svc", 3, policy == Policy::kWeightedRoundRobin);
      !s.ok()) {
    return s;
  }
  resolver::Resolver resolver(**client, {.prefix = prefix});
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc", {.policy = policy});
  if (!balancer.ok()) return balancer.status();
  const int64_t picks = env.Scaled(2000000);
  std::atomic<int64_t> failures{0};
  NsPerPick(**balancer, 1, picks / 10, failures);  // warm-up
  std::vector<ReportFigures> figures;
  double one_thread_ns = 0;
  for (int threads : {1, 2}) {
    Measurement measurement;
    measurement.Start();
    const double ns = NsPerPick(**balancer, threads, picks, failures);
    measurement.Stop();
    if (threads == 1) one_thread_ns = ns;
    // Throughput of two threads over one: 2.0 is perfect scaling.
    const double scaling = threads == 1 ? 1.0 : 2.0 * one_thread_ns / ns;
    figures.push_back(PrintReport({.workload = threads == 1 ? name : name + "_2threads",
                                   .ops = picks * threads,
                                   .extra = {{"threads", absl::StrCat(threads)},
                                             {"ns_per_pick", absl::StrFormat("%.1f", ns)},
                                             {"scaling", absl::StrFormat("%.2f", scaling)},
                                             {"endpoints", "3"},
                                             {"failed_picks", absl::StrCat(failures.load())}}},
                                  measurement));
  }
  return figures;
}

absl::StatusOr<std::vector<ReportFigures>> ResolvePropagation(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string prefix = UniquePrefix("resolve_propagation");
  resolver::Resolver resolver(**client, {.prefix = prefix});
  absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view = resolver.Watch("svc");
  if (!view.ok()) return view.status();
  auto codec = registry::NativeCodec();
  const int64_t samples = env.Scaled(2000);
  Measurement measurement(static_cast<size_t>(samples));
  measurement.Start();
  for (int64_t i = 0; i < samples; ++i) {
    registry::ServiceInstance instance{.service = "svc",
                                       .id = absl::StrCat("i", i % 50),
                                       .address = absl::StrCat("127.0.0.1:", 20000 + i % 50)};
    absl::StatusOr<std::string> value = codec->Encode(instance);
    if (!value.ok()) return value.status();
    absl::StatusOr<PutResult> put = (*client)->Put(codec->Key(prefix, instance), *value);
    if (!put.ok()) return put.status();
    // From the write's response to a snapshot that reflects it.
    const absl::Time written = absl::Now();
    const absl::Time give_up = written + absl::Seconds(5);
    while ((*view)->snapshot()->revision < put->header.revision) {
      if (absl::Now() > give_up) return absl::DeadlineExceededError("the snapshot never caught up");
    }
    measurement.AddLatency(absl::Now() - written);
  }
  measurement.Stop();
  return std::vector<ReportFigures>{
      PrintReport({.workload = "resolve_propagation",
                   .ops = samples,
                   .extra = {{"measures", "put_response_to_snapshot"}}},
                  measurement)};
}

absl::StatusOr<std::vector<ReportFigures>> ResolveMany(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string prefix = UniquePrefix("resolve_many");
  const int64_t services = env.Scaled(1000);
  for (int64_t s = 0; s < services; ++s) {
    if (absl::Status written = WriteEndpoints(**client, prefix, absl::StrCat("svc", s), 3, false);
        !written.ok()) {
      return written;
    }
  }
  const double rss_before = RssMb();
  const int threads_before = ThreadCount();
  Measurement measurement;
  measurement.Start();
  resolver::Resolver resolver(**client, {.prefix = prefix});
  std::vector<std::shared_ptr<resolver::ServiceView>> views;
  views.reserve(static_cast<size_t>(services));
  for (int64_t s = 0; s < services; ++s) {
    absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view =
        resolver.Watch(absl::StrCat("svc", s));
    if (!view.ok()) return view.status();
    views.push_back(*std::move(view));
  }
  for (const auto& view : views) {
    if (view->snapshot()->endpoints.size() != 3) {
      return absl::InternalError(absl::StrCat(view->service(), " lacks endpoints"));
    }
  }
  measurement.Stop();
  const double sync_ms = measurement.seconds() * 1000;
  // Idle for a moment: the views cost nothing while nothing changes.
  absl::SleepFor(absl::Seconds(1) * env.scale);
  return std::vector<ReportFigures>{
      PrintReport({.workload = "resolve_many_1k",
                   .ops = services,
                   .extra = {{"services", absl::StrCat(services)},
                             {"endpoints", absl::StrCat(services * 3)},
                             {"initial_sync_ms", absl::StrFormat("%.1f", sync_ms)},
                             {"threads_before", absl::StrCat(threads_before)},
                             {"threads", absl::StrCat(ThreadCount())},
                             {"rss_kib_per_service",
                              absl::StrFormat("%.2f", (RssMb() - rss_before) * 1024 / services)},
                             {"watch_streams", "1"}}},
                  measurement)};
}

}  // namespace

void RegisterResolverScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back(
      {"pick_rr", "round-robin picks over 3 endpoints: ns per pick, 1 and 2 threads",
       [](const BenchEnv& env) { return PickBench(env, "pick_rr", Policy::kRoundRobin); }});
  scenarios.push_back(
      {"pick_wrr", "smooth weighted round-robin picks (weights 1,2,3)", [](const BenchEnv& env) {
         return PickBench(env, "pick_wrr", Policy::kWeightedRoundRobin);
       }});
  scenarios.push_back(
      {"pick_p2c", "power-of-two-choices picks on in-flight counts",
       [](const BenchEnv& env) { return PickBench(env, "pick_p2c", Policy::kPowerOfTwoChoices); }});
  scenarios.push_back({"resolve_propagation",
                       "2,000 puts of a registry record: time from the put's response to the "
                       "resolver's snapshot reflecting it",
                       ResolvePropagation});
  scenarios.push_back({"resolve_many_1k",
                       "1,000 services x 3 endpoints watched by one process: initial sync, "
                       "threads, RSS",
                       ResolveMany});
}

}  // namespace etcdgrpc::bench
