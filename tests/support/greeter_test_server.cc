// TestGreeterServer (greeter_test_server.h).
#include "greeter_test_server.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "greeter.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace etcdgrpc::testing {

class TestGreeterServer::Service final : public greeter::Greeter::Service {
 public:
  explicit Service(std::string id) : id_(std::move(id)) {}

  grpc::Status SayHello(grpc::ServerContext* context, const greeter::HelloRequest* request,
                        greeter::HelloReply* reply) override {
    calls_.fetch_add(1);
    last_call_ns_.store(absl::ToUnixNanos(::etcdgrpc::internal::MonoNow()));
    GreeterBehavior behavior = behavior_.load();
    {
      internal::MutexLock lock(&mu_);
      if (auto named = behavior_by_name_.find(request->name()); named != behavior_by_name_.end()) {
        behavior = named->second;
      }
    }
    switch (behavior) {
      case GreeterBehavior::kOk:
        break;
      case GreeterBehavior::kUnavailable:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shedding on purpose");
      case GreeterBehavior::kResourceExhausted:
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "over quota on purpose");
      case GreeterBehavior::kSlow: {
        std::shared_ptr<std::atomic<int>> budget;
        absl::Duration slow_for;
        {
          internal::MutexLock lock(&mu_);
          budget = budget_;
          slow_for = slow_for_;
        }
        if (budget != nullptr && budget->fetch_sub(1) <= 0) break;
        const absl::Time until = absl::Now() + slow_for;
        while (absl::Now() < until) {
          if (context->IsCancelled()) {
            cancelled_.fetch_add(1);
            return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled while slow");
          }
          absl::SleepFor(absl::Milliseconds(2));
        }
        break;
      }
    }
    reply->set_message(absl::StrCat("hello ", request->name(), " from ", id_));
    reply->set_instance_id(id_);
    return grpc::Status::OK;
  }

  const std::string id_;
  std::atomic<GreeterBehavior> behavior_{GreeterBehavior::kOk};
  std::atomic<int> calls_{0};
  std::atomic<int> cancelled_{0};
  std::atomic<int64_t> last_call_ns_{0};
  internal::Mutex mu_;
  absl::Duration slow_for_ ABSL_GUARDED_BY(mu_) = absl::Seconds(2);
  std::shared_ptr<std::atomic<int>> budget_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, GreeterBehavior> behavior_by_name_ ABSL_GUARDED_BY(mu_);
};

struct TestGreeterServer::Impl {
  std::string address;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

TestGreeterServer::TestGreeterServer() : impl_(std::make_unique<Impl>()) {}

absl::StatusOr<std::unique_ptr<TestGreeterServer>> TestGreeterServer::Start(
    std::string id, const std::string& host) {
  std::unique_ptr<TestGreeterServer> server(new TestGreeterServer());
  server->service_ = std::make_unique<Service>(std::move(id));
  // Process-wide; must precede building the server.
  grpc::EnableDefaultHealthCheckService(true);
  const std::string listen_host =
      host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(listen_host, ":0"), grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(server->service_.get());
  server->impl_->server = builder.BuildAndStart();
  if (server->impl_->server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("the test greeter server cannot listen on ", host));
  }
  // A server reports the services it serves; only "" is there by default.
  server->impl_->server->GetHealthCheckService()->SetServingStatus(
      greeter::Greeter::service_full_name(), true);
  server->impl_->port = port;
  server->impl_->address = absl::StrCat(listen_host, ":", port);
  return server;
}

TestGreeterServer::~TestGreeterServer() { Shutdown(); }

void TestGreeterServer::Shutdown() {
  if (impl_->server == nullptr) return;
  impl_->server->Shutdown(absl::ToChronoTime(absl::Now()));
  impl_->server->Wait();
  impl_->server.reset();
}

const std::string& TestGreeterServer::id() const { return service_->id_; }
const std::string& TestGreeterServer::address() const { return impl_->address; }
int TestGreeterServer::port() const { return impl_->port; }
void TestGreeterServer::set_behavior(GreeterBehavior behavior) { service_->behavior_ = behavior; }
void TestGreeterServer::set_behavior_for(std::string request_name, GreeterBehavior behavior) {
  internal::MutexLock lock(&service_->mu_);
  service_->behavior_by_name_[std::move(request_name)] = behavior;
}
void TestGreeterServer::set_slow_for(absl::Duration slow_for) {
  internal::MutexLock lock(&service_->mu_);
  service_->slow_for_ = slow_for;
}
void TestGreeterServer::set_slow_budget(std::shared_ptr<std::atomic<int>> budget) {
  internal::MutexLock lock(&service_->mu_);
  service_->budget_ = std::move(budget);
}
int TestGreeterServer::calls() const { return service_->calls_.load(); }
int TestGreeterServer::cancelled() const { return service_->cancelled_.load(); }
absl::Time TestGreeterServer::last_call() const {
  const int64_t ns = service_->last_call_ns_.load();
  return ns == 0 ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}
void TestGreeterServer::SetServing(bool serving) {
  impl_->server->GetHealthCheckService()->SetServingStatus(serving);
}
void TestGreeterServer::SetServing(const std::string& service_name, bool serving) {
  impl_->server->GetHealthCheckService()->SetServingStatus(service_name, serving);
}

}  // namespace etcdgrpc::testing
