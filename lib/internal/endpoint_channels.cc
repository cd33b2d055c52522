#include "lib/internal/endpoint_channels.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "lib/internal/endpoint.h"
#include "lib/internal/tls_credentials.h"
#include "lib/internal/wire_log_interceptor.h"

namespace etcdgrpc::internal {
namespace {

int ClampMillis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT_MAX));
}

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
  // Liveness of a connection whose peer stopped answering (TCP stays up, the
  // channel stays READY): pings while calls are open. Without
  // MAX_PINGS_WITHOUT_DATA = 0, gRPC stops pinging after two pings on a
  // connection that sends nothing, which is what an idle watch stream is.
  const LivenessOptions& liveness = options.liveness;
  if (liveness.keepalive_time != absl::InfiniteDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ClampMillis(liveness.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ClampMillis(liveness.keepalive_timeout));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  return args;
}

absl::Status CheckLiveness(const LivenessOptions& liveness) {
  const std::pair<absl::string_view, absl::Duration> durations[] = {
      {"keepalive_time", liveness.keepalive_time},
      {"keepalive_timeout", liveness.keepalive_timeout},
      {"renewal_timeout", liveness.renewal_timeout},
      {"watch_probe_after", liveness.watch_probe_after},
      {"probe_timeout", liveness.probe_timeout},
      {"write_timeout", liveness.write_timeout},
      {"suspect_initial", liveness.suspect_initial},
      {"suspect_max", liveness.suspect_max},
  };
  for (const auto& [name, value] : durations) {
    if (value <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("liveness.", name, " must be positive, got ", absl::FormatDuration(value)));
    }
  }
  if (liveness.suspect_max < liveness.suspect_initial) {
    return absl::InvalidArgumentError("liveness.suspect_max must not be below suspect_initial");
  }
  return absl::OkStatus();
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

}  // namespace

absl::Status CheckDialOptions(const ClientOptions& options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("no endpoints given");
  if (options.username.empty() && !options.password.empty()) {
    return absl::InvalidArgumentError("a password was given without a username");
  }
  if (options.dial_timeout < absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "dial_timeout must not be negative and request_timeout must be positive");
  }
  if (options.max_receive_bytes <= 0) {
    return absl::InvalidArgumentError("max_receive_bytes must be positive");
  }
  return CheckLiveness(options.liveness);
}

absl::StatusOr<std::vector<std::unique_ptr<EndpointStubs>>> OpenChannels(
    const ClientOptions& options) {
  std::vector<std::string> addresses;
  // TLS (null: plaintext) per endpoint: all of them when options.tls is set, else the https://
  // ones.
  std::vector<std::shared_ptr<grpc::ChannelCredentials>> tls_credentials;
  std::shared_ptr<grpc::ChannelCredentials> tls;
  for (const std::string& text : options.endpoints) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text);
    if (!endpoint.ok()) return endpoint.status();
    if (options.tls.has_value() && !endpoint->https &&
        absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "http://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "endpoint \"", text, "\" asks for plaintext (http://) but TLS options are set"));
    }
    if ((options.tls.has_value() || endpoint->https) && tls == nullptr) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> made = TlsCredentials(options);
      if (!made.ok()) return made.status();
      tls = *std::move(made);
    }
    tls_credentials.push_back(options.tls.has_value() || endpoint->https ? tls : nullptr);
    for (const std::string& seen : addresses) {
      if (seen == endpoint->address) {
        return absl::InvalidArgumentError(absl::StrCat("endpoint ", seen, " given twice"));
      }
    }
    addresses.push_back(endpoint->address);
  }

  grpc::ChannelArguments plain_args = ChannelArgs(options);
  grpc::ChannelArguments tls_args = ChannelArgs(options);
  if (options.tls.has_value() && !options.tls->server_name_override.empty()) {
    // GRPC_SSL_TARGET_NAME_OVERRIDE_ARG: the name checked against the server certificate.
    tls_args.SetSslTargetNameOverride(options.tls->server_name_override);
  }
  auto call_ids = std::make_shared<std::atomic<uint64_t>>(0);
  std::vector<std::unique_ptr<EndpointStubs>> endpoints;
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string& address = addresses[i];
    const bool secure = tls_credentials[i] != nullptr;
    const grpc::ChannelArguments& args = secure ? tls_args : plain_args;
    const std::shared_ptr<grpc::ChannelCredentials> credentials =
        secure ? tls_credentials[i] : grpc::InsecureChannelCredentials();
    std::shared_ptr<grpc::Channel> channel;
    if (options.wire_log) {
      std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
      factories.push_back(
          std::make_unique<WireLogInterceptorFactory>(options.wire_log, address, call_ids));
      channel = grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                        std::move(factories));
    } else {
      channel = grpc::CreateCustomChannel(address, credentials, args);
    }
    endpoints.push_back(MakeStubs(address, std::move(channel)));
    endpoints.back()->tls = secure;
    if (secure && options.tls.has_value())
      endpoints.back()->tls_client_cert = options.tls->cert_file;
  }
  return endpoints;
}

}  // namespace etcdgrpc::internal
