// Balancing scenarios with real servers (in-process greeter servers on
// 127.0.0.1): how long a server that turned NOT_SERVING still gets calls with
// client health checking, and how long a black-holed server keeps its share
// before outlier ejection takes it out.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/resolver.h"
#include "fault_proxy.h"
#include "greeter.grpc.pb.h"
#include "greeter_test_server.h"
#include "grpcpp/client_context.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

using resolver::Balancer;
using resolver::EndpointHealth;
using resolver::EndpointStats;
using testing::TestGreeterServer;

absl::Status Register(Client& client, const std::string& prefix, const std::string& id,
                      const std::string& address) {
  auto codec = registry::NativeCodec();
  registry::ServiceInstance instance{.service = "svc", .id = id, .address = address};
  absl::StatusOr<std::string> value = codec->Encode(instance);
  if (!value.ok()) return value.status();
  return client.Put(codec->Key(prefix, instance), *value).status();
}

EndpointStats StatsOf(const Balancer& balancer, const std::string& address) {
  for (const EndpointStats& stats : balancer.endpoint_stats()) {
    if (stats.address == address) return stats;
  }
  return {};
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Microseconds(500));
  }
  return true;
}

// Callers that call SayHello through `balancer` in a loop until stopped.
class Callers {
 public:
  Callers(Balancer& balancer, int threads, absl::Duration deadline) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, &balancer, deadline] {
        while (!stop_.load()) {
          absl::StatusOr<resolver::PickResult> pick = balancer.Pick();
          if (!pick.ok()) continue;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(deadline));
          greeter::HelloRequest request;
          greeter::HelloReply reply;
          const grpc::Status status =
              pick->NewStub<greeter::Greeter>()->SayHello(&context, request, &reply);
          pick->Done(status);
          (status.ok() ? ok_ : failed_).fetch_add(1);
        }
      });
    }
  }
  ~Callers() {
    stop_.store(true);
    for (auto& thread : threads_) thread.join();
  }
  int64_t ok() const { return ok_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> failed_{0};
  std::vector<std::thread> threads_;
};

absl::StatusOr<std::vector<ReportFigures>> NotServingLastCall(const BenchEnv& env) {
  ClientOptions client_options;
  client_options.endpoints = env.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(client_options);
  if (!client.ok()) return client.status();
  const std::string prefix = absl::StrCat("/bench/not_serving/", absl::ToUnixNanos(absl::Now()));
  std::vector<std::unique_ptr<TestGreeterServer>> backends;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<TestGreeterServer>> backend =
        TestGreeterServer::Start(absl::StrCat("b", i));
    if (!backend.ok()) return backend.status();
    if (absl::Status s = Register(**client, prefix, absl::StrCat("b", i), (*backend)->address());
        !s.ok()) {
      return s;
    }
    backends.push_back(*std::move(backend));
  }
  resolver::ResolverOptions options{.prefix = prefix};
  options.health_checking.scope = resolver::HealthChecking::Scope::kAllServices;
  resolver::Resolver resolver(**client, options);
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  if (!balancer.ok()) return balancer.status();
  const int64_t samples = env.Scaled(50) < 5 ? 5 : env.Scaled(50);
  Measurement measurement(static_cast<size_t>(samples));
  Callers callers(**balancer, 4, absl::Seconds(2));
  measurement.Start();
  for (int64_t i = 0; i < samples; ++i) {
    TestGreeterServer& backend = *backends[static_cast<size_t>(i % 3)];
    if (!WaitFor(
            [&] {
              return StatsOf(**balancer, backend.address()).health == EndpointHealth::kServing;
            },
            absl::Seconds(5))) {
      return absl::DeadlineExceededError("a backend never reported SERVING");
    }
    absl::SleepFor(absl::Milliseconds(20));  // calls flow to it again
    const absl::Time not_serving = ::etcdgrpc::internal::MonoNow();
    backend.SetServing(false);
    absl::SleepFor(absl::Milliseconds(150));  // well past the last call that can come
    measurement.AddLatency(std::max(absl::ZeroDuration(), backend.last_call() - not_serving));
    backend.SetServing(true);
  }
  measurement.Stop();
  return std::vector<ReportFigures>{
      PrintReport({.workload = "health_not_serving",
                   .ops = samples,
                   .extra = {{"measures", "not_serving_to_last_call_received"},
                             {"servers", "3"},
                             {"caller_threads", "4"},
                             {"calls_ok", absl::StrCat(callers.ok())},
                             {"calls_failed", absl::StrCat(callers.failed())}}},
                  measurement)};
}

absl::StatusOr<std::vector<ReportFigures>> EjectBlackHole(const BenchEnv& env) {
  ClientOptions client_options;
  client_options.endpoints = env.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(client_options);
  if (!client.ok()) return client.status();
  const std::string prefix = absl::StrCat("/bench/black_hole/", absl::ToUnixNanos(absl::Now()));
  std::vector<std::unique_ptr<TestGreeterServer>> backends;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<TestGreeterServer>> backend =
        TestGreeterServer::Start(absl::StrCat("b", i));
    if (!backend.ok()) return backend.status();
    backends.push_back(*std::move(backend));
  }
  const int target = std::stoi(backends[0]->address().substr(10));
  absl::StatusOr<std::unique_ptr<testing::FaultProxy>> proxy =
      testing::FaultProxy::Start({.target_port = target});
  if (!proxy.ok()) return proxy.status();
  for (int i = 0; i < 3; ++i) {
    if (absl::Status s = Register(**client, prefix, absl::StrCat("b", i),
                                  i == 0 ? (*proxy)->address() : backends[i]->address());
        !s.ok()) {
      return s;
    }
  }
  const absl::Duration deadline = absl::Milliseconds(100);
  resolver::Resolver resolver(**client, {.prefix = prefix});
  resolver::BalancerOptions options;
  // Short ejections, so that each sample starts with the server back.
  options.outlier_ejection.base_ejection_time = absl::Milliseconds(300);
  options.outlier_ejection.max_ejection_time = absl::Milliseconds(300);
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc", options);
  if (!balancer.ok()) return balancer.status();
  const int64_t samples = env.Scaled(20) < 3 ? 3 : env.Scaled(20);
  Measurement measurement(static_cast<size_t>(samples));
  Callers callers(**balancer, 8, deadline);
  measurement.Start();
  for (int64_t i = 0; i < samples; ++i) {
    if (!WaitFor([&] { return !StatsOf(**balancer, (*proxy)->address()).ejected; },
                 absl::Seconds(5))) {
      return absl::DeadlineExceededError("the server was never taken back");
    }
    absl::SleepFor(absl::Milliseconds(100));
    const absl::Time black_hole = absl::Now();
    (*proxy)->SetBlackHole(testing::BlackHole::kStall);
    if (!WaitFor([&] { return StatsOf(**balancer, (*proxy)->address()).ejected; },
                 absl::Seconds(5))) {
      return absl::DeadlineExceededError("the black-holed server was never ejected");
    }
    measurement.AddLatency(absl::Now() - black_hole);
    (*proxy)->Pass();
  }
  measurement.Stop();
  return std::vector<ReportFigures>{PrintReport(
      {.workload = "eject_black_hole",
       .ops = samples,
       .extra = {{"measures", "black_hole_to_ejection"},
                 {"per_attempt_deadline_ms", absl::StrCat(absl::ToInt64Milliseconds(deadline))},
                 {"goal_ms", absl::StrCat(2 * absl::ToInt64Milliseconds(deadline))},
                 {"servers", "3"},
                 {"caller_threads", "8"}}},
      measurement)};
}

}  // namespace

void RegisterBalancingScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"health_not_serving",
                       "client health checking: time from a server's NOT_SERVING to the last "
                       "call it receives (3 servers, 4 callers in a loop)",
                       NotServingLastCall});
  scenarios.push_back({"eject_black_hole",
                       "outlier ejection: time from black-holing one of 3 servers (FaultProxy) to "
                       "its ejection, 8 callers with a 100 ms per-attempt deadline",
                       EjectBlackHole});
}

}  // namespace etcdgrpc::bench
