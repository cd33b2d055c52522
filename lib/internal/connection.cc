#include "internal/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "internal/endpoint.h"
#include "internal/grpc_status.h"
#include "internal/wire_log_interceptor.h"

namespace etcdgrpc::internal {
namespace {

grpc::ChannelArguments ChannelArgs(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  // A client owns its connections: closing it closes them, and two clients to
  // the same endpoint (or a benchmark's baseline next to it) do not share one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // gRPC's default reconnect backoff grows to 120 s, which leaves a client
  // failing for many seconds after etcd is back; etcd members restart in about
  // a second. In gRPC 1.51 the "min reconnect backoff" is the connect
  // time-out: too small and a slow handshake never completes, so keep 1 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

std::unique_ptr<EndpointStubs> MakeStubs(std::string address,
                                         std::shared_ptr<grpc::Channel> channel) {
  auto stubs = std::make_unique<EndpointStubs>();
  stubs->address = std::move(address);
  stubs->kv = etcdserverpb::KV::NewStub(channel);
  stubs->lease = etcdserverpb::Lease::NewStub(channel);
  stubs->watch = etcdserverpb::Watch::NewStub(channel);
  stubs->maintenance = etcdserverpb::Maintenance::NewStub(channel);
  stubs->cluster = etcdserverpb::Cluster::NewStub(channel);
  stubs->auth = etcdserverpb::Auth::NewStub(channel);
  stubs->channel = std::move(channel);
  return stubs;
}

// Why an endpoint is unreachable, in gRPC's words (e.g. "Connection
// refused"): a fail-fast call on a channel in TRANSIENT_FAILURE returns the
// last connection error at once.
std::string ProbeFailure(EndpointStubs& stubs) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  grpc::Status status = stubs.maintenance->Status(&context, request, &response);
  if (status.ok()) return "reachable now";
  return status.error_message();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Dial(const ClientOptions& options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("no endpoints given");
  if (!options.username.empty() || !options.password.empty()) {
    return absl::UnimplementedError("authentication (username/password) is not supported yet");
  }
  if (options.tls.has_value()) return absl::UnimplementedError("TLS is not supported yet");
  if (options.dial_timeout < absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "dial_timeout must not be negative and request_timeout must be positive");
  }
  if (options.max_receive_bytes <= 0) {
    return absl::InvalidArgumentError("max_receive_bytes must be positive");
  }
  std::vector<std::string> addresses;
  for (const std::string& text : options.endpoints) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text);
    if (!endpoint.ok()) return endpoint.status();
    if (endpoint->https) {
      return absl::UnimplementedError(absl::StrCat("endpoint \"", text,
                                                   "\": TLS (https://) is not supported yet"));
    }
    for (const std::string& seen : addresses) {
      if (seen == endpoint->address) {
        return absl::InvalidArgumentError(absl::StrCat("endpoint ", seen, " given twice"));
      }
    }
    addresses.push_back(endpoint->address);
  }

  grpc::ChannelArguments args = ChannelArgs(options);
  auto call_ids = std::make_shared<std::atomic<uint64_t>>(0);
  std::vector<std::unique_ptr<EndpointStubs>> endpoints;
  for (const std::string& address : addresses) {
    std::shared_ptr<grpc::Channel> channel;
    if (options.wire_log) {
      std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
      factories.push_back(
          std::make_unique<WireLogInterceptorFactory>(options.wire_log, address, call_ids));
      channel = grpc::experimental::CreateCustomChannelWithInterceptors(
          address, grpc::InsecureChannelCredentials(), args, std::move(factories));
    } else {
      channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    }
    endpoints.push_back(MakeStubs(address, std::move(channel)));
  }
  auto connection = std::make_unique<Connection>(options, std::move(endpoints));
  if (options.dial_timeout > absl::ZeroDuration()) {
    if (absl::Status s = connection->WaitForReady(options.dial_timeout); !s.ok()) return s;
  }
  return connection;
}

Connection::Connection(const ClientOptions& options,
                       std::vector<std::unique_ptr<EndpointStubs>> endpoints)
    : endpoints_(std::move(endpoints)),
      request_timeout_(options.request_timeout),
      require_leader_(options.require_leader),
      retry_writes_(options.retry_writes) {
  for (const auto& endpoint : endpoints_) addresses_.push_back(endpoint->address);
}

size_t Connection::PickEndpoint() {
  const size_t index = current();
  if (endpoints_.size() == 1 || endpoints_[index]->channel == nullptr ||
      endpoints_[index]->channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    return index;
  }
  for (size_t step = 1; step < endpoints_.size(); ++step) {
    const size_t next = (index + step) % endpoints_.size();
    if (endpoints_[next]->channel->GetState(true) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
      size_t expected = index;
      current_.compare_exchange_strong(expected, next, std::memory_order_relaxed);
      return next;
    }
  }
  return index;
}

void Connection::ReportUnavailable(size_t index) {
  size_t expected = index;
  current_.compare_exchange_strong(expected, (index + 1) % endpoints_.size(),
                                   std::memory_order_relaxed);
}

void Connection::PrepareContext(grpc::ClientContext* context, absl::Time deadline) const {
  context->set_deadline(absl::ToChronoTime(deadline));
  if (require_leader_) context->AddMetadata("hasleader", "true");
}

void Connection::PrepareStreamContext(grpc::ClientContext* context) const {
  if (require_leader_) context->AddMetadata("hasleader", "true");
}

absl::Status Connection::WaitForReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Connect to every endpoint at once and take the first that is ready.
  size_t waiting_on = 0;
  while (true) {
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      if (endpoints_[i]->channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) {
        current_.store(i, std::memory_order_relaxed);
        return absl::OkStatus();
      }
    }
    absl::Time now = absl::Now();
    if (now >= deadline) break;
    // Block on one channel's state change for a short slice, then look at all.
    grpc::Channel& channel = *endpoints_[waiting_on]->channel;
    waiting_on = (waiting_on + 1) % endpoints_.size();
    absl::Time slice_end = endpoints_.size() == 1 ? deadline : std::min(deadline, now + absl::Milliseconds(5));
    channel.WaitForStateChange(channel.GetState(false), absl::ToChronoTime(slice_end));
  }
  std::vector<std::string> failures;
  for (auto& endpoint : endpoints_) {
    failures.push_back(absl::StrCat(endpoint->address, " (", ProbeFailure(*endpoint), ")"));
  }
  return absl::UnavailableError(absl::StrCat("no etcd endpoint reachable within ",
                                             absl::FormatDuration(timeout), ": ",
                                             absl::StrJoin(failures, "; ")));
}

}  // namespace etcdgrpc::internal
