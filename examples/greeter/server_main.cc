// greeter_server: a gRPC Greeter on a free loopback port that registers
// itself as service "greeter" in etcd, stays registered (the registry keeps
// its lease alive and re-registers after losses) and on SIGTERM/SIGINT
// deregisters first, drains briefly and only then stops serving, so clients
// that resolve it never see a failed call.
#include <signal.h>

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
#include "etcdgrpc/registry/registrar.h"
#include "greeter.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, endpoints, "127.0.0.1:2379", "etcd endpoints, comma-separated");
ABSL_FLAG(std::string, id, "greeter-1", "the instance id in the registry");
ABSL_FLAG(std::string, zone, "zone-a", "metadata zone");
ABSL_FLAG(int, weight, 1, "metadata weight");
ABSL_FLAG(absl::Duration, ttl, absl::Seconds(3), "registration lease TTL");
ABSL_FLAG(absl::Duration, drain, absl::Milliseconds(300),
          "how long to keep serving after deregistering, so resolvers see the removal first");

namespace {

class GreeterService final : public greeter::Greeter::Service {
 public:
  explicit GreeterService(std::string id) : id_(std::move(id)) {}
  grpc::Status SayHello(grpc::ServerContext* /*context*/, const greeter::HelloRequest* request,
                        greeter::HelloReply* reply) override {
    reply->set_message(absl::StrCat("hello ", request->name(), " from ", id_));
    reply->set_instance_id(id_);
    return grpc::Status::OK;
  }

 private:
  std::string id_;
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
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string id = absl::GetFlag(FLAGS_id);
  GreeterService service(id);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::printf("  [%s] cannot listen on 127.0.0.1\n", id.c_str());
    return 1;
  }

  etcdgrpc::ClientOptions options;
  options.endpoints = absl::StrSplit(absl::GetFlag(FLAGS_endpoints), ',', absl::SkipEmpty());
  absl::StatusOr<std::unique_ptr<etcdgrpc::Client>> client = etcdgrpc::Client::Connect(options);
  if (!client.ok()) {
    std::printf("  [%s] %s\n", id.c_str(), client.status().ToString().c_str());
    return 1;
  }
  etcdgrpc::registry::Registrar registrar(**client, {.ttl = absl::GetFlag(FLAGS_ttl)});
  PrintingListener listener(id);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  absl::StatusOr<etcdgrpc::registry::Registration> registration =
      registrar.Register({.service = "greeter",
                          .id = id,
                          .address = address,
                          .metadata = {{"zone", absl::GetFlag(FLAGS_zone)},
                                       {"weight", absl::StrCat(absl::GetFlag(FLAGS_weight))},
                                       {"version", "v1"}}},
                         &listener);
  if (!registration.ok()) {
    std::printf("  [%s] cannot register: %s\n", id.c_str(),
                registration.status().ToString().c_str());
    return 1;
  }
  std::printf("  [%s] serving on %s as %s\n", id.c_str(), address.c_str(),
              registration->key().c_str());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const absl::Time stop_start = absl::Now();
  absl::Status deregistered = registration->Deregister();
  absl::SleepFor(absl::GetFlag(FLAGS_drain));
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
  std::printf(
      "  [%s] %s: deregistered (%s) and stopped in %s\n", id.c_str(), strsignal(signal_number),
      deregistered.ok() ? "ok" : deregistered.ToString().c_str(),
      absl::FormatDuration(absl::Trunc(absl::Now() - stop_start, absl::Milliseconds(1))).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return Run();
}
