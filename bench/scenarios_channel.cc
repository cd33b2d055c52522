// Balancing channel scenarios (issue 15): the cost of a call through the
// balancing grpc::Channel against a pick + call on the picker's channel
// (interleaved), the cost of get(), and what a change of the address list
// costs: from the etcd write to the new channel, and the first call on it.
#include <atomic>
#include <cstdlib>
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
#include "greeter_test_server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// The calls go to in-process test greeter servers and ask their gRPC default
// health service (grpc.health.v1 Check, SERVING): the cheapest real unary
// method at hand.
grpc::Status Check(Health::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  HealthCheckResponse response;
  return stub.Check(&context, HealthCheckRequest(), &response);
}

// One call through the balancing channel (get() + stub + Check), its latency
// added to `into`.
void TimedChannelCall(resolver::BalancingChannel& channel, Measurement& into, int64_t& failed) {
  const absl::Time start = absl::Now();
  auto stub = channel.NewStub<Health>();
  if (!Check(*stub).ok()) ++failed;
  into.AddLatency(absl::Now() - start);
}

// One call through the picker (Pick + stub + Check + Done), its latency added
// to `into`.
void TimedPickCall(resolver::Balancer& balancer, Measurement& into, int64_t& failed) {
  const absl::Time start = absl::Now();
  absl::StatusOr<resolver::PickResult> pick = balancer.Pick();
  if (!pick.ok()) {
    ++failed;
    return;
  }
  grpc::Status status = Check(*pick->NewStub<Health>());
  if (!status.ok()) ++failed;
  pick->Done(status);
  into.AddLatency(absl::Now() - start);
}

struct Setup {
  std::unique_ptr<Client> client;
  std::string prefix;
  std::vector<std::unique_ptr<testing::TestGreeterServer>> servers;
  std::unique_ptr<resolver::Resolver> resolver;
  // Both over "svc", for the comparisons.
  std::shared_ptr<resolver::BalancingChannel> channel;
  std::shared_ptr<resolver::Balancer> balancer;
};

absl::Status Put(Client& client, const std::string& prefix, const std::string& id,
                 const std::string& address, int64_t* revision = nullptr) {
  auto codec = registry::NativeCodec();
  registry::ServiceInstance instance{.service = "svc", .id = id, .address = address};
  absl::StatusOr<std::string> value = codec->Encode(instance);
  if (!value.ok()) return value.status();
  absl::StatusOr<PutResult> put = client.Put(codec->Key(prefix, instance), *value);
  if (!put.ok()) return put.status();
  if (revision != nullptr) *revision = put->header.revision;
  return absl::OkStatus();
}

// `servers` servers (the last one not registered: it comes and goes).
absl::StatusOr<Setup> Start(const BenchEnv& env, const std::string& name, int servers,
                            int registered) {
  Setup setup;
  ClientOptions options;
  options.endpoints = env.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  setup.client = *std::move(client);
  setup.prefix = absl::StrCat("/bench/", name, "/", absl::ToUnixNanos(absl::Now()));
  for (int i = 0; i < servers; ++i) {
    absl::StatusOr<std::unique_ptr<testing::TestGreeterServer>> server =
        testing::TestGreeterServer::Start(absl::StrCat("s", i));
    if (!server.ok()) return server.status();
    setup.servers.push_back(*std::move(server));
    if (i >= registered) continue;
    if (absl::Status s =
            Put(*setup.client, setup.prefix, absl::StrCat("s", i), setup.servers.back()->address());
        !s.ok()) {
      return s;
    }
  }
  setup.resolver = std::make_unique<resolver::Resolver>(
      *setup.client, resolver::ResolverOptions{.prefix = setup.prefix});
  absl::StatusOr<std::shared_ptr<resolver::BalancingChannel>> channel =
      setup.resolver->Channel("svc");
  if (!channel.ok()) return channel.status();
  setup.channel = *std::move(channel);
  absl::StatusOr<std::shared_ptr<resolver::Balancer>> balancer = setup.resolver->Balance("svc");
  if (!balancer.ok()) return balancer.status();
  setup.balancer = *std::move(balancer);
  return setup;
}

// Calls through the balancing channel (get() + stub + call) and through the
// picker (Pick + stub + call + Done), interleaved in rounds.
absl::StatusOr<std::vector<ReportFigures>> ChannelCall(const BenchEnv& env) {
  absl::StatusOr<Setup> setup = Start(env, "channel_call", 3, 3);
  if (!setup.ok()) return setup.status();
  resolver::BalancingChannel& channel = *setup->channel;
  resolver::Balancer& balancer = *setup->balancer;

  const int64_t calls = env.Scaled(20000);
  const int64_t rounds = 10;
  const int64_t per_round = calls / rounds < 1 ? 1 : calls / rounds;
  Measurement through_channel(static_cast<size_t>(calls)),
      through_picks(static_cast<size_t>(calls));
  int64_t failed = 0;
  auto via_channel = [&] { TimedChannelCall(channel, through_channel, failed); };
  auto via_pick = [&] { TimedPickCall(balancer, through_picks, failed); };
  for (int i = 0; i < 300; ++i) {  // warm-up: every connection up
    via_channel();
    via_pick();
  }
  for (int64_t round = 0; round < rounds; ++round) {
    through_channel.Start();
    for (int64_t i = 0; i < per_round; ++i) via_channel();
    through_channel.Stop();
    through_picks.Start();
    for (int64_t i = 0; i < per_round; ++i) via_pick();
    through_picks.Stop();
  }
  // get() alone, and get() + stub.
  const int64_t gets = env.Scaled(1000000);
  absl::Time start = absl::Now();
  for (int64_t i = 0; i < gets; ++i) {
    std::shared_ptr<grpc::Channel> got = channel.get();
    if (got == nullptr) ++failed;
  }
  const double ns_per_get = absl::ToDoubleNanoseconds(absl::Now() - start) / gets;
  // The same on two threads at once (the mutex and the reference count are
  // shared).
  std::atomic<int64_t> contended_ns{0};
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        const absl::Time begin = absl::Now();
        for (int64_t i = 0; i < gets; ++i) {
          std::shared_ptr<grpc::Channel> got = channel.get();
          if (got == nullptr) std::abort();
        }
        contended_ns.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - begin));
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  const double ns_per_get_2threads = static_cast<double>(contended_ns.load()) / (2.0 * gets);
  const int64_t stubs = gets / 10 < 1 ? 1 : gets / 10;
  start = absl::Now();
  for (int64_t i = 0; i < stubs; ++i) {
    auto stub = channel.NewStub<Health>();
    if (stub == nullptr) ++failed;
  }
  const double ns_per_stub = absl::ToDoubleNanoseconds(absl::Now() - start) / stubs;

  std::vector<ReportFigures> figures;
  figures.push_back(
      PrintReport({.workload = "channel_call",
                   .ops = rounds * per_round,
                   .extra = {{"servers", "3"},
                             {"ns_per_get", absl::StrFormat("%.1f", ns_per_get)},
                             {"ns_per_get_2threads", absl::StrFormat("%.1f", ns_per_get_2threads)},
                             {"ns_per_get_and_stub", absl::StrFormat("%.1f", ns_per_stub)},
                             {"failed", absl::StrCat(failed)}}},
                  through_channel));
  figures.push_back(PrintReport({.workload = "channel_call_pick",
                                 .ops = rounds * per_round,
                                 .extra = {{"servers", "3"}, {"failed", absl::StrCat(failed)}}},
                                through_picks));
  std::printf(
      "compare workload=channel_call baseline=channel_call_pick cpu_ratio=%.2f "
      "p50_ratio=%.2f\n",
      figures[0].cpu_us_per_op / figures[1].cpu_us_per_op, figures[0].p50_us / figures[1].p50_us);
  return figures;
}

// A fourth server registered and removed in turn: from the write to the
// channel over the new target (propagation + rebuild; the picker's update
// for comparison), the time a rebuild takes, the first
// call on the new channel, and a call on a settled one; the picker's first
// call after the same changes for comparison.
absl::StatusOr<std::vector<ReportFigures>> ChannelRebuild(const BenchEnv& env) {
  absl::StatusOr<Setup> setup = Start(env, "channel_rebuild", 4, 3);
  if (!setup.ok()) return setup.status();
  resolver::BalancingChannel& channel = *setup->channel;
  resolver::Balancer& balancer = *setup->balancer;
  absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view = setup->resolver->Watch("svc");
  if (!view.ok()) return view.status();
  const std::string moving = setup->servers.back()->address();
  auto codec = registry::NativeCodec();
  const std::string moving_key =
      codec->Key(setup->prefix, {.service = "svc", .id = "moving", .address = moving});

  const int64_t cycles = env.Scaled(500);
  Measurement rebuild(static_cast<size_t>(cycles)), first(static_cast<size_t>(cycles)),
      settled(static_cast<size_t>(cycles)), pick_first(static_cast<size_t>(cycles)),
      update(static_cast<size_t>(cycles));
  int64_t failed = 0;
  // One change: write, wait for the snapshot (the picker sees it then) or the
  // channel's target, measure the first call.
  auto change = [&](bool add, bool via_channel) -> absl::Status {
    // From before the write: the new channel often exists before the write's
    // response is read (the watch event comes as fast).
    const absl::Time written = absl::Now();
    int64_t revision = 0;
    if (add) {
      if (absl::Status s = Put(*setup->client, setup->prefix, "moving", moving, &revision);
          !s.ok()) {
        return s;
      }
    } else {
      absl::StatusOr<DeleteResult> deleted = setup->client->Delete(moving_key);
      if (!deleted.ok()) return deleted.status();
      revision = deleted->header.revision;
    }
    const absl::Time give_up = written + absl::Seconds(5);
    if (via_channel) {
      while ((channel.target().find(moving) != std::string::npos) != add) {
        if (absl::Now() > give_up) return absl::DeadlineExceededError("no rebuild");
      }
      rebuild.AddLatency(absl::Now() - written);
      TimedChannelCall(channel, first, failed);
      TimedChannelCall(channel, settled, failed);
    } else {
      while ((*view)->snapshot()->revision < revision || balancer.eligible() != (add ? 4u : 3u)) {
        if (absl::Now() > give_up) return absl::DeadlineExceededError("no update");
      }
      update.AddLatency(absl::Now() - written);
      TimedPickCall(balancer, pick_first, failed);
    }
    return absl::OkStatus();
  };
  rebuild.Start();
  for (int64_t i = 0; i < cycles; ++i) {
    const bool via_channel = i % 2 == 0;  // interleaved
    if (absl::Status s = change(true, via_channel); !s.ok()) return s;
    if (absl::Status s = change(false, via_channel); !s.ok()) return s;
  }
  rebuild.Stop();
  const resolver::BalancingChannelStats stats = channel.stats();
  const double rebuilds = static_cast<double>(stats.rebuilds);
  const double us_per_rebuild = absl::ToDoubleMicroseconds(stats.rebuild_time) / rebuilds;
  std::vector<ReportFigures> figures;
  figures.push_back(
      PrintReport({.workload = "channel_rebuild",
                   .ops = cycles,
                   .extra = {{"measures", "write_to_new_channel"},
                             {"rebuilds", absl::StrFormat("%.0f", rebuilds)},
                             {"us_per_rebuild", absl::StrFormat("%.1f", us_per_rebuild)},
                             {"failed", absl::StrCat(failed)}}},
                  rebuild));
  figures.push_back(PrintReport({.workload = "channel_rebuild_pick",
                                 .ops = cycles,
                                 .extra = {{"measures", "write_to_balancer_update"}}},
                                update));
  figures.push_back(PrintReport({.workload = "channel_first_call",
                                 .ops = cycles,
                                 .extra = {{"measures", "first_call_on_a_rebuilt_channel"},
                                           {"failed", absl::StrCat(failed)}}},
                                first));
  figures.push_back(PrintReport(
      {.workload = "channel_second_call",
       .ops = cycles,
       .extra = {{"measures", "next_call_on_the_same_channel"}, {"failed", absl::StrCat(failed)}}},
      settled));
  figures.push_back(PrintReport({.workload = "channel_first_call_pick",
                                 .ops = cycles,
                                 .extra = {{"measures", "first_pick_and_call_after_the_change"},
                                           {"failed", absl::StrCat(failed)}}},
                                pick_first));
  return figures;
}

}  // namespace

void RegisterChannelScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"channel_call",
                       "calls through the balancing channel vs pick + call, interleaved "
                       "(with channel_call_pick); ns per get()",
                       ChannelCall});
  scenarios.push_back({"channel_rebuild",
                       "address changes from etcd: write to new channel, first and next call on "
                       "it, vs the picker's first call (channel_first_call_pick)",
                       ChannelRebuild});
}

}  // namespace etcdgrpc::bench
