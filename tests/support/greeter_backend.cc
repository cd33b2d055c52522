#include "greeter_backend.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "greeter.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace etcdgrpc::testing {

class GreeterBackend::Impl final : public greeter::Greeter::Service {
 public:
  explicit Impl(std::string id) : id_(std::move(id)) {}

  grpc::Status SayHello(grpc::ServerContext* /*context*/, const greeter::HelloRequest* request,
                        greeter::HelloReply* reply) override {
    calls_.fetch_add(1);
    last_call_ns_.store(absl::ToUnixNanos(::etcdgrpc::internal::MonoNow()));
    reply->set_message(absl::StrCat("hello ", request->name()));
    reply->set_instance_id(id_);
    return grpc::Status::OK;
  }

  const std::string id_;
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> last_call_ns_{0};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> down_{false};
};

absl::StatusOr<std::unique_ptr<GreeterBackend>> GreeterBackend::Start(std::string id) {
  // Process-wide; must precede building the server.
  grpc::EnableDefaultHealthCheckService(true);
  auto impl = std::make_unique<Impl>(std::move(id));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &impl->port_);
  builder.RegisterService(impl.get());
  impl->server_ = builder.BuildAndStart();
  if (impl->server_ == nullptr || impl->port_ == 0) {
    return absl::UnavailableError("the greeter backend could not listen on 127.0.0.1");
  }
  return std::unique_ptr<GreeterBackend>(new GreeterBackend(std::move(impl)));
}

GreeterBackend::GreeterBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GreeterBackend::~GreeterBackend() { Shutdown(); }

std::string GreeterBackend::address() const { return absl::StrCat("127.0.0.1:", impl_->port_); }
int64_t GreeterBackend::calls() const { return impl_->calls_.load(); }
absl::Time GreeterBackend::last_call() const {
  return absl::FromUnixNanos(impl_->last_call_ns_.load());
}

void GreeterBackend::SetServing(bool serving) {
  impl_->server_->GetHealthCheckService()->SetServingStatus(serving);
}

void GreeterBackend::Shutdown() {
  if (impl_->down_.exchange(true)) return;
  // Open Watch streams would hold a plain Shutdown() until the deadline.
  impl_->server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  impl_->server_->Wait();
}

}  // namespace etcdgrpc::testing
