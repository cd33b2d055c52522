#include "lib/internal/connection.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "grpc/support/log.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "lib/internal/dial_diagnostics.h"
#include "lib/internal/endpoint.h"
#include "lib/internal/grpc_status.h"
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

absl::StatusOr<std::unique_ptr<Connection>> Connection::Dial(const ClientOptions& options) {
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
  if (absl::Status s = CheckLiveness(options.liveness); !s.ok()) return s;
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
  auto connection = std::make_unique<Connection>(options, std::move(endpoints));
  if (options.dial_timeout > absl::ZeroDuration()) {
    if (absl::Status s = connection->WaitForReady(options.dial_timeout); !s.ok()) return s;
    // With credentials, Connect() also authenticates (without a dial
    // timeout, the first call does), so wrong credentials fail here.
    if (connection->has_credentials()) {
      if (absl::Status s = connection->RefreshToken(0, connection->UnaryDeadline()); !s.ok()) {
        return s;
      }
    }
  }
  return connection;
}

Connection::Connection(const ClientOptions& options,
                       std::vector<std::unique_ptr<EndpointStubs>> endpoints)
    : endpoints_(std::move(endpoints)),
      suspect_initial_(options.liveness.suspect_initial),
      suspect_max_(options.liveness.suspect_max),
      request_timeout_(options.request_timeout),
      require_leader_(options.require_leader),
      retry_writes_(options.retry_writes),
      auth_(options.username, options.password) {
  for (const auto& endpoint : endpoints_) {
    addresses_.push_back(endpoint->address);
    health_.push_back(std::make_unique<HealthRecord>());
  }
}

bool Connection::Usable(size_t index, int64_t now_ns, bool try_to_connect) const {
  if (health_[index]->suspect_until_ns.load(std::memory_order_relaxed) > now_ns) return false;
  const std::shared_ptr<grpc::Channel>& channel = endpoints_[index]->channel;
  return channel == nullptr || channel->GetState(try_to_connect) != GRPC_CHANNEL_TRANSIENT_FAILURE;
}

size_t Connection::Pick(size_t start, std::optional<size_t> avoid) {
  const size_t n = endpoints_.size();
  if (n == 1) return 0;
  const int64_t now_ns = absl::ToUnixNanos(MonoNow());
  for (size_t step = 0; step < n; ++step) {
    const size_t next = (start + step) % n;
    if (avoid == next) continue;
    if (Usable(next, now_ns, /*try_to_connect=*/step != 0)) {
      if (next != start || avoid.has_value()) {
        size_t expected = current();
        current_.compare_exchange_strong(expected, next, std::memory_order_relaxed);
      }
      return next;
    }
  }
  // Nothing usable: the endpoint whose suspicion ends first (not `avoid`).
  size_t best = avoid.has_value() ? (*avoid + 1) % n : start;
  int64_t best_until = INT64_MAX;
  for (size_t step = 0; step < n; ++step) {
    const size_t next = (start + step) % n;
    if (avoid == next) continue;
    const int64_t until = health_[next]->suspect_until_ns.load(std::memory_order_relaxed);
    if (until < best_until) {
      best = next;
      best_until = until;
    }
  }
  return best;
}

size_t Connection::PickEndpoint() { return Pick(current(), std::nullopt); }

size_t Connection::PickEndpointAvoiding(size_t avoid) {
  return Pick((avoid + 1) % endpoints_.size(), avoid);
}

void Connection::ReportFailure(size_t index, absl::string_view reason) {
  HealthRecord& health = *health_[index];
  const uint32_t consecutive = health.consecutive.fetch_add(1, std::memory_order_relaxed) + 1;
  absl::Duration suspicion = suspect_initial_;
  for (uint32_t i = 1; i < consecutive && suspicion < suspect_max_; ++i) suspicion *= 2;
  suspicion = std::min(suspicion, suspect_max_);
  health.suspect_until_ns.store(absl::ToUnixNanos(MonoNow() + suspicion),
                                std::memory_order_relaxed);
  // A failing member may come back as another release.
  health.progress.store(ProgressSafety::kUnknown, std::memory_order_relaxed);
  {
    MutexLock lock(&health.mu);
    ++health.failures;
    health.last_failure = std::string(reason);
  }
  if (endpoints_.size() > 1) {
    size_t expected = index;
    current_.compare_exchange_strong(expected, (index + 1) % endpoints_.size(),
                                     std::memory_order_relaxed);
  }
  gpr_log(GPR_INFO, "etcdgrpc: endpoint %s suspect for %s (failure %u in a row): %s",
          endpoints_[index]->address.c_str(), absl::FormatDuration(suspicion).c_str(), consecutive,
          std::string(reason).c_str());
}

void Connection::ClearSuspicion(size_t index) {
  HealthRecord& health = *health_[index];
  health.consecutive.store(0, std::memory_order_relaxed);
  health.suspect_until_ns.store(0, std::memory_order_relaxed);
}

bool Connection::IsSuspect(size_t index) const {
  return health_[index]->suspect_until_ns.load(std::memory_order_relaxed) >
         absl::ToUnixNanos(MonoNow());
}

std::vector<EndpointHealth> Connection::health() const {
  std::vector<EndpointHealth> out;
  const absl::Time now = MonoNow();
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const HealthRecord& health = *health_[i];
    EndpointHealth info;
    info.address = endpoints_[i]->address;
    const absl::Time until =
        absl::FromUnixNanos(health.suspect_until_ns.load(std::memory_order_relaxed));
    info.suspect = until > now;
    info.suspect_for = info.suspect ? until - now : absl::ZeroDuration();
    info.consecutive_failures = health.consecutive.load(std::memory_order_relaxed);
    MutexLock lock(&health.mu);
    info.failures = health.failures;
    info.last_failure = health.last_failure;
    out.push_back(std::move(info));
  }
  return out;
}

Connection::ProgressSafety Connection::ProgressSafetyOf(absl::string_view version) {
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(std::string(version).c_str(), "%d.%d.%d", &major, &minor, &patch) != 3) {
    return ProgressSafety::kUnknown;
  }
  // etcd-io/etcd#15237 (3.5.8) and its 3.4 backport (3.4.25): progress
  // answers wait until every watcher of the stream has caught up.
  if (major != 3) return major > 3 ? ProgressSafety::kSafe : ProgressSafety::kEarly;
  if (minor == 4) return patch >= 25 ? ProgressSafety::kSafe : ProgressSafety::kEarly;
  if (minor == 5) return patch >= 8 ? ProgressSafety::kSafe : ProgressSafety::kEarly;
  return minor > 5 ? ProgressSafety::kSafe : ProgressSafety::kEarly;
}

bool Connection::LearnVersion(size_t index, absl::Duration timeout, CancelSlot* slot) {
  EndpointStubs& stubs = *endpoints_[index];
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (slot != nullptr && !slot->Set(&context)) return false;
  etcdserverpb::StatusResponse response;
  const grpc::Status status =
      stubs.maintenance->Status(&context, etcdserverpb::StatusRequest(), &response);
  if (slot != nullptr) slot->Clear();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      health_[index]->progress.store(ProgressSafetyOf(response.version()),
                                     std::memory_order_relaxed);
      return true;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      return false;
    default:
      return true;  // it answered, without a version (a fake etcd, say)
  }
}

bool CancelSlot::Set(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void CancelSlot::Clear() {
  MutexLock lock(&mu_);
  context_ = nullptr;
}

void CancelSlot::Cancel() {
  MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

uint64_t Connection::PrepareContext(grpc::ClientContext* context, absl::Time deadline) const {
  context->set_deadline(absl::ToChronoTime(deadline));
  return PrepareStreamContext(context);
}

uint64_t Connection::PrepareStreamContext(grpc::ClientContext* context) const {
  if (require_leader_) context->AddMetadata("hasleader", "true");
  return auth_.AddTo(context);
}

absl::Status Connection::RefreshToken(uint64_t refused_generation, absl::Time deadline,
                                      CancelSlot* slot) {
  if (!has_credentials()) {
    return absl::UnauthenticatedError(
        "etcd requires authentication: give a username and password (ClientOptions)");
  }
  return auth_.Refresh(
      refused_generation,
      [&](const std::string& username, const std::string& password) -> absl::StatusOr<std::string> {
        constexpr absl::string_view kMethod = "/etcdserverpb.Auth/Authenticate";
        etcdserverpb::AuthenticateRequest request;
        request.set_name(username);
        request.set_password(password);
        // Like a read: on UNAVAILABLE try the next endpoint (Authenticate
        // changes nothing but a token table).
        for (size_t attempt = 1;; ++attempt) {
          const size_t index = PickEndpoint();
          EndpointStubs& endpoint = *endpoints_[index];
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(deadline));
          if (require_leader_) context.AddMetadata("hasleader", "true");
          context.set_wait_for_ready(endpoints_.size() == 1 || attempt == endpoints_.size());
          etcdserverpb::AuthenticateResponse response;
          if (slot != nullptr && !slot->Set(&context)) {
            return absl::CancelledError("the client was closed");
          }
          const grpc::Status status = endpoint.auth->Authenticate(&context, request, &response);
          if (slot != nullptr) slot->Clear();
          if (status.ok()) return response.token();
          if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
              absl::StrContains(status.error_message(), "authentication is not enabled")) {
            // Calls go without a token; should etcd enable authentication
            // later, its "user name is empty" answer brings us back here.
            return std::string();
          }
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
            ReportFailure(index, status.error_message());
            if (attempt < endpoints_.size() && absl::Now() < deadline) continue;
          }
          const absl::Status failed = FromGrpcStatus(status, endpoint.address, kMethod);
          absl::Status result(failed.code(), absl::StrCat("authenticating as user \"", username,
                                                          "\": ", failed.message()));
          failed.ForEachPayload([&](absl::string_view type, const absl::Cord& payload) {
            result.SetPayload(type, payload);
          });
          return result;
        }
      });
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
    // A server certificate that fails verification (unknown CA, wrong name)
    // will not verify on the next attempt either: say so now rather than
    // after the whole dial timeout.
    if (absl::Status rejected = CertificatesRejected(endpoints_); !rejected.ok()) return rejected;
    // Block on one channel's state change for a short slice, then look at all.
    grpc::Channel& channel = *endpoints_[waiting_on]->channel;
    waiting_on = (waiting_on + 1) % endpoints_.size();
    const absl::Duration slice = endpoints_.size() == 1 && !endpoints_[0]->tls
                                     ? deadline - now
                                     : absl::Milliseconds(endpoints_.size() == 1 ? 50 : 5);
    absl::Time slice_end = std::min(deadline, now + slice);
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
