// greeter_demo: what `./dev demo` runs. Uses the etcd in ETCD_ENDPOINTS, or
// starts a throwaway 3-member cluster on 127.0.0.1 when it is not set, and
// starts three greeter servers that register themselves with health-aware
// registrations; a client resolves "greeter" and balances calls round robin
// while one server is frozen (NOT_SERVING) and thawed, an etcd member is
// killed and restarted (own cluster only), one server drains on SIGTERM,
// another is killed with SIGKILL and a fourth joins. Exits non-zero if any
// call failed or the resolver missed a change.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/resolver/balanced_call.h"
#include "etcdgrpc/resolver/resolver.h"
#include "greeter.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "local_etcd.h"
#include "server_process.h"

ABSL_FLAG(absl::Duration, ttl, absl::Seconds(3), "the servers' registration TTL");
ABSL_FLAG(int, calls, 30, "calls per round");
ABSL_FLAG(std::string, server_binary, "", "greeter_server (default: next to this program)");

namespace {

using etcdgrpc::resolver::Balancer;
using etcdgrpc::resolver::EndpointChanges;
using etcdgrpc::resolver::EndpointSet;
using greeter_demo::ServerProcess;

void Step(const std::string& what) { std::printf("\n=== %s\n", what.c_str()); }

std::string Describe(const etcdgrpc::resolver::Endpoint& endpoint) {
  auto zone = endpoint.instance.metadata.find("zone");
  return absl::StrCat(endpoint.instance.id, " ", endpoint.address(), " ",
                      zone == endpoint.instance.metadata.end() ? "" : zone->second);
}

// Prints every change the resolver publishes, with the revision it reflects.
class PrintingListener final : public etcdgrpc::resolver::ServiceListener {
 public:
  void OnUpdate(const EndpointSet& endpoints, const EndpointChanges& changes) override {
    for (const auto& endpoint : changes.added) Print(endpoints, "+", *endpoint);
    for (const auto& endpoint : changes.removed) Print(endpoints, "-", *endpoint);
    for (const auto& endpoint : changes.updated) Print(endpoints, "~", *endpoint);
  }
  void OnProblem(const absl::Status& problem) override {
    std::printf("  [resolver] problem: %s\n", problem.ToString().c_str());
  }

 private:
  static void Print(const EndpointSet& endpoints, const char* sign,
                    const etcdgrpc::resolver::Endpoint& endpoint) {
    std::printf("  [resolver] revision %lld: %s %s (now %zu endpoints)\n",
                static_cast<long long>(endpoints.revision), sign, Describe(endpoint).c_str(),
                endpoints.endpoints.size());
  }
};

using GreeterCalls = etcdgrpc::resolver::BalancedStub<greeter::Greeter::Stub>;

// The seed use case: up to 3 retries on another endpoint, 100 ms apart.
// SayHello has no side effects, so every failure it retries may repeat it.
etcdgrpc::resolver::CallPolicy SeedPolicy() {
  etcdgrpc::resolver::CallPolicy policy;
  policy.retry.max_attempts = 4;
  policy.retry.backoff = etcdgrpc::resolver::LinearBackoff(absl::Milliseconds(100));
  policy.attempt_timeout = absl::Seconds(1);
  policy.overall_timeout = absl::Seconds(5);
  policy.idempotent = true;
  return policy;
}

struct CallOutcome {
  bool ok = false;
  std::string instance;
  // Attempts after the first (another endpoint each, while there is one).
  int retries = 0;
  std::string error;
};

// One SayHello through the call helper (docs/calls.md), which picks, reports
// each outcome to the balancer and retries elsewhere per SeedPolicy().
CallOutcome CallOnce(const GreeterCalls& calls) {
  greeter::HelloRequest request;
  request.set_name("demo");
  greeter::HelloReply reply;
  const etcdgrpc::resolver::CallResult result =
      calls.Call(&greeter::Greeter::Stub::SayHello, request, &reply);
  CallOutcome outcome;
  outcome.retries = result.attempts > 0 ? result.attempts - 1 : 0;
  if (result.ok()) {
    outcome.ok = true;
    outcome.instance = reply.instance_id();
  } else {
    outcome.error = result.status.ToString();
  }
  return outcome;
}

struct Round {
  std::map<std::string, int> answered_by;
  int failed = 0;
  int retries = 0;
};

void Record(const CallOutcome& call, Round& round) {
  round.retries += call.retries;
  if (call.ok) {
    ++round.answered_by[call.instance];
  } else {
    ++round.failed;
    std::printf("  call failed: %s\n", call.error.c_str());
  }
}

void PrintRound(const Round& round) {
  std::vector<std::string> spread;
  for (const auto& [id, count] : round.answered_by) spread.push_back(absl::StrCat(id, "=", count));
  std::printf("  answered by: %s; failed calls: %d; retried attempts: %d\n",
              absl::StrJoin(spread, " ").c_str(), round.failed, round.retries);
}

Round Calls(const GreeterCalls& greeter_calls, int calls) {
  Round round;
  for (int i = 0; i < calls; ++i) Record(CallOnce(greeter_calls), round);
  PrintRound(round);
  return round;
}

bool Has(const etcdgrpc::resolver::ServiceView& view, const std::string& id) {
  for (const auto& endpoint : view.snapshot()->endpoints) {
    if (endpoint->instance.id == id) return true;
  }
  return false;
}

// Waits until the view does (or does not) hold `id`; returns how long it took.
std::optional<absl::Duration> WaitFor(const etcdgrpc::resolver::ServiceView& view,
                                      const std::string& id, bool present, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (Has(view, id) != present) {
    if (absl::Now() - start > timeout) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::Now() - start;
}

std::string Ms(absl::Duration duration) {
  return absl::FormatDuration(absl::Trunc(duration, absl::Milliseconds(1)));
}

std::string ServerBinary() {
  std::string binary = absl::GetFlag(FLAGS_server_binary);
  if (!binary.empty()) return binary;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "greeter_server";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "greeter_server";
}

// Calls until `done` or `timeout`, 10 ms apart; returns the round.
Round CallWhile(const GreeterCalls& greeter_calls, const std::function<bool()>& done,
                absl::Duration timeout) {
  Round round;
  const absl::Time start = absl::Now();
  while (!done() && absl::Now() - start < timeout) {
    Record(CallOnce(greeter_calls), round);
    absl::SleepFor(absl::Milliseconds(10));
  }
  return round;
}

int Run() {
  etcdgrpc::ClientOptions options;
  // Without ETCD_ENDPOINTS: our own 3-member cluster, so a member can be
  // killed and restarted.
  std::unique_ptr<etcdgrpc::testing::LocalEtcd> cluster;
  const char* endpoints = std::getenv("ETCD_ENDPOINTS");
  if (endpoints == nullptr || *endpoints == '\0') {
    etcdgrpc::testing::LocalEtcdOptions cluster_options;
    cluster_options.members = 3;
    absl::StatusOr<std::unique_ptr<etcdgrpc::testing::LocalEtcd>> started =
        etcdgrpc::testing::LocalEtcd::Start(cluster_options);
    if (!started.ok()) {
      std::printf("cannot start a 3-member etcd cluster: %s\n",
                  started.status().ToString().c_str());
      return 1;
    }
    cluster = *std::move(started);
    options.endpoints = cluster->ClientEndpoints();
    std::printf("started a throwaway 3-member etcd cluster at %s\n",
                cluster->EndpointsFlag().c_str());
  } else {
    options.endpoints = absl::StrSplit(endpoints, ',', absl::SkipEmpty());
    std::printf("using etcd at %s (ETCD_ENDPOINTS; the etcd member phase is skipped)\n", endpoints);
  }
  auto client = etcdgrpc::Client::Connect(options);
  if (!client.ok()) {
    std::printf("cannot connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const std::string binary = ServerBinary();
  const absl::Duration ttl = absl::GetFlag(FLAGS_ttl);
  const int calls = absl::GetFlag(FLAGS_calls);
  std::map<std::string, std::unique_ptr<ServerProcess>> servers;
  auto start_server = [&](const std::string& id, const std::string& zone) {
    servers[id] = std::make_unique<ServerProcess>(
        binary, std::vector<std::string>{"--endpoints=" + absl::StrJoin(options.endpoints, ","),
                                         "--id=" + id, "--zone=" + zone,
                                         absl::StrCat("--ttl=", absl::FormatDuration(ttl)),
                                         // Each prints where it serves its Prometheus metrics.
                                         "--metrics_port=0"});
    return servers[id]->started();
  };
  bool ok = true;
  auto expect = [&](bool condition, const std::string& what) {
    if (!condition) {
      std::printf("  UNEXPECTED: %s\n", what.c_str());
      ok = false;
    }
  };

  etcdgrpc::resolver::Resolver resolver(**client);
  absl::StatusOr<std::shared_ptr<etcdgrpc::resolver::ServiceView>> view = resolver.Watch("greeter");
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("greeter");
  if (!view.ok() || !balancer.ok()) {
    std::printf("cannot resolve: %s\n",
                (view.ok() ? balancer.status() : view.status()).ToString().c_str());
    return 1;
  }
  const GreeterCalls greeter_calls(*balancer, SeedPolicy());
  PrintingListener printer;
  auto subscription = (*view)->Subscribe(&printer);

  Step(absl::StrCat("Start three greeter servers (TTL ", absl::FormatDuration(ttl),
                    "); the client resolves \"greeter\""));
  for (const auto& [id, zone] : std::vector<std::pair<std::string, std::string>>{
           {"greeter-1", "zone-a"}, {"greeter-2", "zone-b"}, {"greeter-3", "zone-a"}}) {
    expect(start_server(id, zone), "cannot start " + id);
  }
  for (const char* id : {"greeter-1", "greeter-2", "greeter-3"}) {
    expect(WaitFor(**view, id, true, absl::Seconds(10)).has_value(),
           absl::StrCat(id, " never showed up"));
  }

  Step(absl::StrCat(calls, " calls, round robin"));
  Round first = Calls(greeter_calls, calls);
  expect(first.failed == 0 && first.answered_by.size() == 3, "all three answer");

  Step("SIGUSR1 greeter-3: NOT_SERVING (gRPC health and registry record in one call)");
  const absl::Time freeze_time = absl::Now();
  servers["greeter-3"]->Signal(SIGUSR1);
  Round during_freeze = CallWhile(
      greeter_calls, [&] { return !Has(**view, "greeter-3"); }, absl::Seconds(5));
  std::printf("  greeter-3 %s from the resolver %s after SIGUSR1; calls meanwhile:\n",
              Has(**view, "greeter-3") ? "NOT removed" : "removed",
              Ms(absl::Now() - freeze_time).c_str());
  PrintRound(during_freeze);
  expect(!Has(**view, "greeter-3"), "greeter-3 removed while NOT_SERVING");
  Round frozen = Calls(greeter_calls, calls);
  expect(during_freeze.failed + frozen.failed == 0, "no failed call around NOT_SERVING");
  expect(frozen.answered_by.count("greeter-3") == 0, "frozen greeter-3 gets no calls");

  Step("SIGUSR1 greeter-3 again: SERVING, back in the resolver");
  servers["greeter-3"]->Signal(SIGUSR1);
  const std::optional<absl::Duration> thawed = WaitFor(**view, "greeter-3", true, absl::Seconds(5));
  expect(thawed.has_value(), "greeter-3 back after SERVING");
  if (thawed.has_value())
    std::printf("  greeter-3 back in the resolver after %s\n", Ms(*thawed).c_str());
  Round back = Calls(greeter_calls, calls);
  expect(back.failed == 0 && back.answered_by.count("greeter-3") == 1, "greeter-3 answers again");

  if (cluster != nullptr) {
    absl::StatusOr<int> leader = cluster->Leader();
    const int member = leader.ok() ? *leader : 0;
    Step(absl::StrCat("SIGKILL etcd member ", member, leader.ok() ? " (the leader)" : "",
                      ": calls go on; keep-alives and watches move to the other two (a lease "
                      "that lapses during the election is replaced, the key never goes)"));
    expect(cluster->Kill(member).ok(), "kill the etcd member");
    const absl::Time etcd_kill_time = absl::Now();
    // Longer than a TTL: the servers' leases must be renewed elsewhere.
    Round without_member = CallWhile(
        greeter_calls, [] { return false; }, ttl + absl::Seconds(1));
    PrintRound(without_member);
    bool all_there = true;
    for (const char* id : {"greeter-1", "greeter-2", "greeter-3"}) all_there &= Has(**view, id);
    std::printf("  after %s without the member: %s\n", Ms(absl::Now() - etcd_kill_time).c_str(),
                all_there ? "all three servers still registered" : "a server was LOST");
    expect(all_there, "registrations survive a dead etcd member");
    expect(without_member.failed == 0, "no failed call while an etcd member is down");
    Step(absl::StrCat("Restart etcd member ", member));
    const absl::Time restart_time = absl::Now();
    absl::Status restarted = cluster->Restart(member);
    expect(restarted.ok(), "restart the etcd member: " + restarted.ToString());
    std::printf("  member %d answers again after %s\n", member,
                Ms(absl::Now() - restart_time).c_str());
  }

  Step("SIGTERM greeter-1: drain (NOT_SERVING, deregister, wait for every member, grace, stop)");
  const absl::Time term_time = absl::Now();
  servers["greeter-1"]->Signal(SIGTERM);
  Round during_stop;
  while (!servers["greeter-1"]->WaitExit(absl::ZeroDuration()) &&
         absl::Now() - term_time < absl::Seconds(5)) {
    Record(CallOnce(greeter_calls), during_stop);
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::printf("  calls while greeter-1 was stopping:\n");
  PrintRound(during_stop);
  std::printf("  greeter-1 %s; calls after it stopped:\n",
              Has(**view, "greeter-1") ? "still in the resolver" : "gone from the resolver");
  expect(!Has(**view, "greeter-1"), "greeter-1 removed");
  Round after_stop = Calls(greeter_calls, calls);
  expect(during_stop.failed + after_stop.failed == 0, "no failed call around SIGTERM");
  expect(after_stop.answered_by.count("greeter-1") == 0, "greeter-1 gets no calls");

  Step("SIGKILL greeter-2: no goodbye; its key stays until the lease expires");
  const absl::Time kill_time = absl::Now();
  servers["greeter-2"]->Signal(SIGKILL);
  servers["greeter-2"]->WaitExit(absl::Seconds(5));
  Round during_kill;
  while (Has(**view, "greeter-2") && absl::Now() - kill_time < ttl + absl::Seconds(5)) {
    Record(CallOnce(greeter_calls), during_kill);
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::printf("  calls while greeter-2's record was still there:\n");
  PrintRound(during_kill);
  const bool expired = !Has(**view, "greeter-2");
  std::printf("  greeter-2 %s from the resolver %s after SIGKILL (lease TTL %s)\n",
              expired ? "removed" : "NOT removed", Ms(absl::Now() - kill_time).c_str(),
              absl::FormatDuration(ttl).c_str());
  expect(expired, "greeter-2 expires");
  expect(during_kill.failed == 0, "calls fail over from the killed server");

  Step("greeter-4 joins");
  expect(start_server("greeter-4", "zone-b"), "cannot start greeter-4");
  expect(WaitFor(**view, "greeter-4", true, absl::Seconds(10)).has_value(), "greeter-4 shows up");
  Round joined = Calls(greeter_calls, calls);
  expect(joined.failed == 0 && joined.answered_by.count("greeter-4") == 1,
         "greeter-4 receives calls");

  Step("Stop the remaining servers");
  for (auto& [id, server] : servers) server->Signal(SIGTERM);
  for (auto& [id, server] : servers) {
    expect(server->WaitExit(absl::Seconds(5)), id + " stops within 5 s");
  }
  expect(WaitFor(**view, "greeter-3", false, absl::Seconds(2)).has_value() &&
             WaitFor(**view, "greeter-4", false, absl::Seconds(2)).has_value(),
         "every instance deregistered");
  subscription.Cancel();
  std::printf("\n%s\n", ok ? "demo finished: every call answered, every change seen"
                           : "demo FAILED (see UNEXPECTED above)");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return Run();
}
