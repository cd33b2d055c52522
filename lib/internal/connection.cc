#include "lib/internal/connection.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "grpc/support/log.h"
#include "lib/internal/dial_diagnostics.h"
#include "lib/internal/endpoint_channels.h"
#include "lib/internal/grpc_status.h"

namespace etcdgrpc::internal {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Dial(const ClientOptions& options) {
  if (absl::Status s = CheckDialOptions(options); !s.ok()) return s;
  absl::StatusOr<std::vector<std::unique_ptr<EndpointStubs>>> endpoints = OpenChannels(options);
  if (!endpoints.ok()) return endpoints.status();
  auto connection = std::make_unique<Connection>(options, *std::move(endpoints));
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
  metrics_ = ClientMetrics::Create(options.metrics, addresses_);
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
  if (metrics_ != nullptr) {
    metrics_->endpoint_failures[index].Increment();
    metrics_->endpoint_suspect[index].Set(1);
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
  if (metrics_ != nullptr) metrics_->endpoint_suspect[index].Set(0);
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
