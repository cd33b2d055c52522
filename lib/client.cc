#include "etcdgrpc/client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "internal/async_calls.h"
#include "internal/connection.h"
#include "internal/endpoint.h"
#include "internal/kv_codec.h"
#include "internal/lease_keeper.h"
#include "internal/timer.h"
#include "internal/watch_stream.h"
#include "internal/unary_call.h"

namespace etcdgrpc {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<internal::Connection>> connection =
      internal::Connection::Dial(options);
  if (!connection.ok()) return connection.status();
  return std::make_unique<Client>(std::move(options), *std::move(connection));
}

Client::Client(ClientOptions options, std::unique_ptr<internal::Connection> connection)
    : options_(std::move(options)),
      connection_(std::move(connection)),
      async_calls_(std::make_unique<internal::AsyncCalls>()),
      timer_(std::make_unique<internal::Timer>()),
      lease_keeper_(std::make_shared<internal::LeaseKeeper>(*connection_, *timer_, options_)),
      watch_stream_(std::make_shared<internal::WatchStream>(*connection_, *timer_, options_)) {}

Client::~Client() {
  // The timer first (it drives the streams' time-outs), then the streams,
  // whose threads may still be delivering to async callers.
  timer_->Shutdown();
  watch_stream_->Shutdown();
  lease_keeper_->Shutdown();
  async_calls_->CancelAllAndWait();
}

const std::vector<std::string>& Client::endpoints() const { return connection_->addresses(); }

std::string Client::current_endpoint() const {
  return connection_->addresses()[connection_->current()];
}

absl::StatusOr<EndpointStatus> Client::Status(std::string_view endpoint) {
  absl::StatusOr<internal::Endpoint> parsed = internal::ParseEndpoint(std::string(endpoint));
  if (!parsed.ok()) return parsed.status();
  for (size_t i = 0; i < connection_->size(); ++i) {
    internal::EndpointStubs& stubs = connection_->endpoint(i);
    if (stubs.address != parsed->address) continue;
    grpc::ClientContext context;
    connection_->PrepareContext(&context, connection_->UnaryDeadline());
    etcdserverpb::StatusResponse response;
    grpc::Status status =
        stubs.maintenance->Status(&context, etcdserverpb::StatusRequest(), &response);
    if (!status.ok()) {
      return internal::FromGrpcStatus(status, stubs.address, "/etcdserverpb.Maintenance/Status");
    }
    return internal::ParseStatusResponse(stubs.address, response);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("endpoint ", std::string(endpoint), " is not one of the client's endpoints"));
}

}  // namespace etcdgrpc
