// Balanced-call scenarios (etcdgrpc/resolver/balanced_call.h):
//   balanced_call: sequential calls through BalancedStub to 3 in-process greeter servers,
//     interleaved with a bare pick + call + Done on a stub per channel kept by hand
//     (balanced_call_raw_stub) and with a pick + a new stub per call (balanced_call_new_stub,
//     what the demo did); then a stub cache lookup against building a stub, without the network.
//   balanced_call_kill9: 3 greeter server processes, calls at 1,000/s through the callback form
//     with the seed retry policy, one server killed with SIGKILL halfway; failed calls, retries.
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "concurrency_helper.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/balanced_call.h"
#include "etcdgrpc/resolver/resolver.h"
#include "greeter.grpc.pb.h"
#include "greeter_calls.h"
#include "greeter_helper.h"
#include "greeter_test_server.h"
#include "scenario.h"
#include "sequential.h"

namespace etcdgrpc::bench {
namespace {

using resolver::BalancedStub;
using resolver::CallPolicy;
using resolver::CallResult;
using Stub = greeter::Greeter::Stub;
using testing::kSayHelloAsync;
using testing::SeedPolicy;

constexpr int64_t kSequentialCalls = 20000;
constexpr int64_t kStubOps = 200000;
constexpr int64_t kKillCalls = 10000;
constexpr int kServers = 3;

absl::Status FromGrpc(const grpc::Status& status) {
  return status.ok() ? absl::OkStatus()
                     : absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                    status.error_message());
}

absl::Status WaitForEndpoints(const resolver::Balancer& balancer, size_t count) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (balancer.eligible() != count) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the balancer has ", balancer.eligible(), " endpoints, not ", count));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReportFigures>> CallOverhead(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string prefix = absl::StrCat(kCallsPrefix, "_overhead");
  registry::Registrar registrar(**client, {.prefix = prefix});
  std::vector<std::unique_ptr<testing::TestGreeterServer>> servers;
  std::vector<registry::Registration> registrations;
  for (int i = 0; i < kServers; ++i) {
    absl::StatusOr<std::unique_ptr<testing::TestGreeterServer>> server =
        testing::TestGreeterServer::Start(absl::StrCat("s", i));
    if (!server.ok()) return server.status();
    absl::StatusOr<registry::Registration> registration = registrar.Register(
        {.service = "greeter", .id = (*server)->id(), .address = (*server)->address()});
    if (!registration.ok()) return registration.status();
    servers.push_back(*std::move(server));
    registrations.push_back(*std::move(registration));
  }
  resolver::Resolver resolver(**client, {.prefix = prefix});
  absl::StatusOr<std::shared_ptr<resolver::Balancer>> balancer = resolver.Balance("greeter");
  if (!balancer.ok()) return balancer.status();
  if (absl::Status ready = WaitForEndpoints(**balancer, kServers); !ready.ok()) return ready;

  BalancedStub<Stub> helper(*balancer, SeedPolicy());
  // The bare baseline keeps one stub per channel itself (single-threaded here).
  std::map<grpc::Channel*, std::unique_ptr<Stub>> bare_stubs;
  greeter::HelloRequest request;
  request.set_name("bench");
  greeter::HelloReply reply;
  resolver::Balancer& picker = **balancer;
  auto bare = [&](bool new_stub_each_call) {
    return [&, new_stub_each_call](int64_t) -> absl::Status {
      absl::StatusOr<resolver::PickResult> pick = picker.Pick();
      if (!pick.ok()) return pick.status();
      const std::shared_ptr<grpc::Channel> channel = pick->channel();
      std::unique_ptr<Stub> fresh;
      Stub* stub = nullptr;
      if (new_stub_each_call) {
        fresh = greeter::Greeter::NewStub(channel);
        stub = fresh.get();
      } else {
        std::unique_ptr<Stub>& kept = bare_stubs[channel.get()];
        if (kept == nullptr) kept = greeter::Greeter::NewStub(channel);
        stub = kept.get();
      }
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      grpc::Status status = stub->SayHello(&context, request, &reply);
      pick->Done(status);
      return FromGrpc(status);
    };
  };
  absl::StatusOr<std::vector<ReportFigures>> figures = RunInterleaved(
      {{.report = {.peer = "grpc-raw-stub", .workload = "balanced_call_raw_stub"},
        .op = bare(false)},
       {.report = {.workload = "balanced_call", .extra = {{"servers", "3"}}},
        .op = [&](int64_t) { return helper.Call(&Stub::SayHello, request, &reply).status; }},
       {.report = {.peer = "grpc-raw-stub", .workload = "balanced_call_new_stub"},
        .op = bare(true)}},
      env.Scaled(kSequentialCalls));
  if (!figures.ok()) return figures;
  for (const ReportFigures& ours : *figures) {
    if (ours.workload != "balanced_call") continue;
    for (const ReportFigures& other : *figures) {
      if (other.workload == ours.workload) continue;
      std::printf("compare workload=balanced_call baseline=%s cpu_ns_per_call_diff=%.0f\n",
                  other.workload.c_str(), (ours.cpu_us_per_op - other.cpu_us_per_op) * 1000);
    }
  }

  // Without the network: what a call pays for its stub.
  const std::shared_ptr<grpc::Channel> channel = [&] {
    absl::StatusOr<resolver::PickResult> pick = picker.Pick();
    return pick.ok() ? pick->channel() : nullptr;
  }();
  if (channel == nullptr) return absl::UnavailableError("no pick");
  resolver::call_engine::StubCache cache(
      [](const std::shared_ptr<grpc::ChannelInterface>& unowned) -> std::shared_ptr<void> {
        return std::make_shared<Stub>(unowned);
      });
  const int64_t stub_ops = env.Scaled(kStubOps);
  size_t sink = 0;
  Measurement cached(0);
  cached.Start();
  for (int64_t i = 0; i < stub_ops; ++i) sink += cache.Get(channel) != nullptr;
  cached.Stop();
  figures->push_back(
      PrintReport({.workload = "stub_cache_get", .ops = stub_ops, .extra = {}}, cached));
  Measurement built(0);
  built.Start();
  for (int64_t i = 0; i < stub_ops; ++i) sink += greeter::Greeter::NewStub(channel) != nullptr;
  built.Stop();
  figures->push_back(PrintReport({.workload = "stub_new_per_call",
                                  .ops = stub_ops,
                                  .extra = {{"checked", absl::StrCat(sink)}}},
                                 built));
  return figures;
}

absl::StatusOr<std::vector<ReportFigures>> CallsKill9(const BenchEnv& env) {
  std::vector<std::optional<HelperProcess>> helpers;
  for (int i = 0; i < kServers; ++i) {
    absl::StatusOr<HelperProcess> helper =
        SpawnHelper(env.self_path,
                    {.endpoints = env.endpoints, .mode = "greeter", .name = absl::StrCat("p", i)});
    if (!helper.ok()) return helper.status();
    absl::StatusOr<std::string> ready = helper->ReadLine(absl::Seconds(10));
    if (!ready.ok()) return ready.status();
    helpers.emplace_back(*std::move(helper));
  }
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  resolver::Resolver resolver(**client, {.prefix = kCallsPrefix});
  absl::StatusOr<std::shared_ptr<resolver::Balancer>> balancer = resolver.Balance("greeter");
  if (!balancer.ok()) return balancer.status();
  if (absl::Status ready = WaitForEndpoints(**balancer, kServers); !ready.ok()) return ready;

  CallPolicy policy = SeedPolicy();
  policy.attempt_timeout = absl::Seconds(1);
  BalancedStub<Stub> greeter(*balancer, policy);
  const int64_t calls = env.Scaled(kKillCalls);
  const int64_t kill_at = calls / 2;
  greeter::HelloRequest request;
  request.set_name("bench");
  struct Outcome {
    greeter::HelloReply reply;
    absl::Duration latency;
    int attempts = 0;
    bool ok = false;
  };
  std::vector<Outcome> outcomes(static_cast<size_t>(calls));
  internal::WaitGroup finished;
  finished.Add(static_cast<int>(calls));
  internal::Mutex error_mu;
  std::string first_error;
  Measurement measurement(static_cast<size_t>(calls));
  measurement.Start();
  const absl::Time start = internal::MonoNow();
  for (int64_t i = 0; i < calls; ++i) {
    // 1,000 calls/s, whatever the previous ones do.
    const absl::Time due = start + absl::Milliseconds(i);
    if (const absl::Duration wait = due - internal::MonoNow(); wait > absl::ZeroDuration()) {
      absl::SleepFor(wait);
    }
    if (i == kill_at) helpers[0].reset();  // SIGKILL, then reaped
    Outcome& outcome = outcomes[static_cast<size_t>(i)];
    const absl::Time issued = internal::MonoNow();
    greeter.CallAsync(kSayHelloAsync, request, &outcome.reply,
                      [&outcome, &finished, &error_mu, &first_error, issued](CallResult result) {
                        outcome.latency = internal::MonoNow() - issued;
                        outcome.attempts = result.attempts;
                        outcome.ok = result.ok();
                        if (!result.ok()) {
                          internal::MutexLock lock(&error_mu);
                          if (first_error.empty()) first_error = result.status.ToString();
                        }
                        finished.Done();
                      });
  }
  if (!finished.WaitUntil(internal::MonoNow() + absl::Seconds(60))) {
    return absl::DeadlineExceededError("calls still unanswered 60 s after the last one");
  }
  measurement.Stop();
  int64_t failed = 0, retried_calls = 0, retries = 0;
  for (const Outcome& outcome : outcomes) {
    measurement.AddLatency(outcome.latency);
    if (!outcome.ok) ++failed;
    if (outcome.attempts > 1) ++retried_calls;
    retries += std::max(0, outcome.attempts - 1);
  }
  std::vector<ReportFigures> figures;
  figures.push_back(PrintReport({.workload = "balanced_call_kill9",
                                 .ops = calls,
                                 .extra = {{"servers", "3"},
                                           {"killed_at_call", absl::StrCat(kill_at)},
                                           {"failed", absl::StrCat(failed)},
                                           {"retried_calls", absl::StrCat(retried_calls)},
                                           {"retries", absl::StrCat(retries)}}},
                                measurement));
  if (!first_error.empty()) std::fprintf(stderr, "first failed call: %s\n", first_error.c_str());
  return figures;
}

}  // namespace

void RegisterCallsScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back(
      {"balanced_call",
       "20k sequential calls through BalancedStub to 3 greeter servers; with "
       "balanced_call_raw_stub (bare pick + call) and balanced_call_new_stub interleaved",
       CallOverhead});
  scenarios.push_back({"balanced_call_kill9",
                       "10k calls at 1,000/s to 3 greeter server processes, seed retry policy, "
                       "one killed with SIGKILL halfway: failed calls, retries",
                       CallsKill9});
}

}  // namespace etcdgrpc::bench
