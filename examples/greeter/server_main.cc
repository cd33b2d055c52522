// greeter_server: a gRPC Greeter on a free loopback port that registers
// itself as service "greeter" in etcd with a health-aware registration (its
// gRPC health status and its record follow one switch), stays registered
// (the registry keeps its lease alive and re-registers after losses),
// toggles SERVING / NOT_SERVING on SIGUSR1 (answering UNAVAILABLE while not
// serving) and on SIGTERM/SIGINT drains: NOT_SERVING, deregistered, the
// removal propagated, a grace, then the server stops. With --metrics_port it
// serves its client's and registrar's metrics at http://127.0.0.1:PORT/metrics.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/metrics_http.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/registry/serving.h"
#include "greeter.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, endpoints, "127.0.0.1:2379", "etcd endpoints, comma-separated");
ABSL_FLAG(std::string, id, "greeter-1", "the instance id in the registry");
ABSL_FLAG(std::string, zone, "zone-a", "metadata zone");
ABSL_FLAG(int, weight, 1, "metadata weight");
ABSL_FLAG(absl::Duration, ttl, absl::Seconds(3), "registration lease TTL");
ABSL_FLAG(absl::Duration, grace, absl::Milliseconds(100),
          "how long to keep serving once every etcd member applied the removal, so resolvers "
          "and calls already picked catch up");
ABSL_FLAG(std::string, not_serving, "remove",
          "what NOT_SERVING does to the record: remove (delete it) or mark (metadata "
          "health=NOT_SERVING)");

ABSL_FLAG(int, metrics_port, -1,
          "serve the Prometheus metrics of this process's etcd client and registrar at "
          "http://127.0.0.1:PORT/metrics (0: a free port, printed); -1: no metrics");

namespace {

class GreeterService final : public greeter::Greeter::Service {
 public:
  explicit GreeterService(std::string id) : id_(std::move(id)) {}
  grpc::Status SayHello(grpc::ServerContext* /*context*/, const greeter::HelloRequest* request,
                        greeter::HelloReply* reply) override {
    // A frozen instance refuses work, as one that is overloaded or in
    // maintenance would: callers retry elsewhere.
    if (!serving_.load()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, id_ + " is NOT_SERVING");
    }
    reply->set_message(absl::StrCat("hello ", request->name(), " from ", id_));
    reply->set_instance_id(id_);
    return grpc::Status::OK;
  }
  void set_serving(bool serving) { serving_.store(serving); }

 private:
  std::string id_;
  std::atomic<bool> serving_{true};
};

class PrintingListener final : public etcdgrpc::registry::RegistrationListener {
 public:
  explicit PrintingListener(std::string id) : id_(std::move(id)) {}
  void OnStateChange(const etcdgrpc::registry::RegistrationEvent& event) override {
    std::string line = absl::StrCat(
        "  [", id_, "] ", std::string(etcdgrpc::registry::RegistrationStateName(event.state)));
    if (event.lease_id != 0) {
      absl::StrAppend(&line, " lease=", absl::Hex(event.lease_id),
                      " ttl=", absl::FormatDuration(event.ttl));
    }
    if (!event.reason.ok()) absl::StrAppend(&line, " (", event.reason.ToString(), ")");
    std::printf("%s\n", line.c_str());
  }

 private:
  std::string id_;
};

int Run() {
  // Signals are taken synchronously by this thread; every thread created
  // later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string id = absl::GetFlag(FLAGS_id);
  GreeterService service(id);
  int port = 0;
  // Before the server is built: gRPC's own grpc.health.v1 service, whose
  // statuses the ServingRegistration sets.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::printf("  [%s] cannot listen on 127.0.0.1\n", id.c_str());
    return 1;
  }

  std::shared_ptr<etcdgrpc::MetricsRegistry> metrics;
  std::unique_ptr<etcdgrpc::MetricsHttpServer> metrics_server;
  if (absl::GetFlag(FLAGS_metrics_port) >= 0) {
    metrics = std::make_shared<etcdgrpc::MetricsRegistry>();
    absl::StatusOr<std::unique_ptr<etcdgrpc::MetricsHttpServer>> started =
        etcdgrpc::MetricsHttpServer::Start(metrics, {.port = absl::GetFlag(FLAGS_metrics_port)});
    // A taken port costs the metrics only, never the service.
    if (started.ok()) {
      metrics_server = *std::move(started);
      std::printf("  [%s] metrics on %s\n", id.c_str(), metrics_server->url().c_str());
    } else {
      std::printf("  [%s] no metrics: %s\n", id.c_str(), started.status().ToString().c_str());
    }
  }

  etcdgrpc::ClientOptions options;
  options.endpoints = absl::StrSplit(absl::GetFlag(FLAGS_endpoints), ',', absl::SkipEmpty());
  options.metrics = metrics;
  absl::StatusOr<std::unique_ptr<etcdgrpc::Client>> client = etcdgrpc::Client::Connect(options);
  if (!client.ok()) {
    std::printf("  [%s] %s\n", id.c_str(), client.status().ToString().c_str());
    return 1;
  }
  etcdgrpc::registry::Registrar registrar(**client,
                                          {.ttl = absl::GetFlag(FLAGS_ttl), .metrics = metrics});
  PrintingListener listener(id);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const bool mark = absl::GetFlag(FLAGS_not_serving) == "mark";
  absl::StatusOr<etcdgrpc::registry::ServingRegistration> registration =
      etcdgrpc::registry::ServingRegistration::Register(
          registrar, server.get(),
          {.service = "greeter",
           .id = id,
           .address = address,
           .metadata = {{"zone", absl::GetFlag(FLAGS_zone)},
                        {"weight", absl::StrCat(absl::GetFlag(FLAGS_weight))},
                        {"version", "v1"}}},
          {.not_serving = mark ? etcdgrpc::registry::NotServingAction::kMark
                               : etcdgrpc::registry::NotServingAction::kRemove},
          &listener);
  if (!registration.ok()) {
    std::printf("  [%s] cannot register: %s\n", id.c_str(),
                registration.status().ToString().c_str());
    return 1;
  }
  std::printf("  [%s] serving on %s as %s\n", id.c_str(), address.c_str(),
              registration->key().c_str());

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGUSR1) {
    const bool serving = !registration->serving();
    const absl::Time start = absl::Now();
    // The service accepts before the record is back and refuses only after
    // it is gone, so a client that picks this instance meanwhile is answered.
    if (serving) service.set_serving(true);
    absl::Status status = registration->SetServing(serving);
    if (!serving) service.set_serving(false);
    std::printf(
        "  [%s] SIGUSR1: %s (health and record %s in %s)\n", id.c_str(),
        serving ? "SERVING" : "NOT_SERVING", status.ok() ? "set" : status.ToString().c_str(),
        absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))).c_str());
  }
  etcdgrpc::registry::DrainReport report =
      registration->Drain({.grace = absl::GetFlag(FLAGS_grace)});
  std::printf("  [%s] %s: drained: %s\n", id.c_str(), strsignal(signal_number),
              report.ToString().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return Run();
}
