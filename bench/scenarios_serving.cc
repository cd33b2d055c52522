// Health-aware registration scenario: how long after SetServing(false) the
// last call still reaches that server when clients do no health checking of
// their own (propagation through the registry: etcd's delete, the
// resolver's watch, the balancer's pick table). docs/registry-health.md.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/registry/serving.h"
#include "etcdgrpc/resolver/resolver.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

// A KV service whose Range only notes when a call arrived.
class CountingKv final : public etcdserverpb::KV::Service {
 public:
  grpc::Status Range(grpc::ServerContext* /*context*/,
                     const etcdserverpb::RangeRequest* /*request*/,
                     etcdserverpb::RangeResponse* /*response*/) override {
    last_call_ns_.store(absl::ToUnixNanos(absl::Now()));
    calls_.fetch_add(1);
    return grpc::Status::OK;
  }
  absl::Time last_call() const { return absl::FromUnixNanos(last_call_ns_.load()); }
  int64_t calls() const { return calls_.load(); }

 private:
  std::atomic<int64_t> last_call_ns_{0};
  std::atomic<int64_t> calls_{0};
};

struct Server {
  CountingKv kv;
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

absl::Status StartServer(Server& server) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&server.kv);
  server.server = builder.BuildAndStart();
  if (server.server == nullptr || port == 0) return absl::InternalError("cannot start a server");
  server.address = absl::StrCat("127.0.0.1:", port);
  return absl::OkStatus();
}

// Bounded wait for `done`, 1 ms apart.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// One trial: three servers registered, a caller thread picking and calling
// in a loop; the target goes NOT_SERVING (kRemove) at t0; the figure is its
// last call's arrival - t0. Then SERVING again for the next trial.
absl::StatusOr<std::vector<ReportFigures>> NotServingPropagation(const BenchEnv& env) {
  ClientOptions client_options;
  client_options.endpoints = env.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(client_options);
  if (!client.ok()) return client.status();
  const std::string prefix = "/bench/not_serving_propagation";
  registry::Registrar registrar(**client, {.prefix = prefix, .ttl = absl::Seconds(10)});
  resolver::Resolver resolver(**client, {.prefix = prefix});
  absl::StatusOr<std::shared_ptr<resolver::Balancer>> balancer = resolver.Balance("kv");
  if (!balancer.ok()) return balancer.status();

  constexpr int kServers = 3;
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<registry::ServingRegistration> registrations;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(std::make_unique<Server>());
    if (absl::Status s = StartServer(*servers.back()); !s.ok()) return s;
    absl::StatusOr<registry::ServingRegistration> r = registry::ServingRegistration::Register(
        registrar, servers.back()->server.get(),
        {.service = "kv", .id = absl::StrCat("s", i), .address = servers.back()->address});
    if (!r.ok()) return r.status();
    registrations.push_back(*std::move(r));
  }
  if (!WaitFor([&] { return (*balancer)->eligible() == kServers; }, absl::Seconds(5))) {
    return absl::DeadlineExceededError("the balancer never saw the three servers");
  }

  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  std::thread caller([&] {
    while (!stop.load()) {
      absl::StatusOr<resolver::PickResult> pick = (*balancer)->Pick();
      if (!pick.ok()) {
        failed.fetch_add(1);
        continue;
      }
      auto stub = pick->NewStub<etcdserverpb::KV>();
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      etcdserverpb::RangeRequest request;
      etcdserverpb::RangeResponse response;
      grpc::Status status = stub->Range(&context, request, &response);
      if (!status.ok()) failed.fetch_add(1);
      pick->Done(status);
    }
  });

  const int64_t trials = env.Scaled(50);
  Measurement measurement(static_cast<size_t>(trials));
  Measurement set_serving;
  absl::Status trial_status;
  measurement.Start();
  for (int64_t trial = 0; trial < trials && trial_status.ok(); ++trial) {
    Server& target = *servers[static_cast<size_t>(trial % kServers)];
    registry::ServingRegistration& registration =
        registrations[static_cast<size_t>(trial % kServers)];
    const int64_t before = target.kv.calls();
    if (!WaitFor([&] { return target.kv.calls() > before + 2; }, absl::Seconds(5))) {
      trial_status = absl::DeadlineExceededError("the target gets no calls");
      break;
    }
    const absl::Time t0 = absl::Now();
    if (absl::Status s = registration.SetServing(false); !s.ok()) {
      trial_status = s;
      break;
    }
    set_serving.AddLatency(absl::Now() - t0);
    // Quiet for 200 ms: the target is out of every pick.
    if (!WaitFor([&] { return absl::Now() - target.kv.last_call() > absl::Milliseconds(200); },
                 absl::Seconds(5))) {
      trial_status =
          absl::DeadlineExceededError("the target still gets calls 5 s after NOT_SERVING");
      break;
    }
    measurement.AddLatency(std::max(absl::ZeroDuration(), target.kv.last_call() - t0));
    if (absl::Status s = registration.SetServing(true); !s.ok()) {
      trial_status = s;
      break;
    }
  }
  measurement.Stop();
  stop.store(true);
  caller.join();
  if (!trial_status.ok()) return trial_status;
  const double set_p50 = set_serving.PercentileUs(50);
  std::vector<ReportFigures> figures{
      PrintReport({.workload = "not_serving_propagation",
                   .ops = trials,
                   .extra = {{"servers", absl::StrCat(kServers)},
                             {"set_not_serving_p50_us", absl::StrFormat("%.0f", set_p50)},
                             {"failed_calls", absl::StrCat(failed.load())}}},
                  measurement)};
  for (auto& server : servers) server->server->Shutdown(absl::ToChronoTime(absl::Now()));
  return figures;
}

}  // namespace

void RegisterServingScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"not_serving_propagation",
                       "time from SetServing(false) (record removed) to the last call reaching "
                       "that server, through a resolver balancer in the same process, no client "
                       "health checking; p50/p99 over 50 trials",
                       NotServingPropagation});
}

}  // namespace etcdgrpc::bench
