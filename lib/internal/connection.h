// A client's channels and stubs, one set per etcd endpoint, the health of each
// endpoint (fed by every call and stream), which endpoint calls go to now, and
// the per-call context (deadline, metadata). The stub interfaces are the seam
// unit tests replace with mocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/client_options.h"
#include "etcdgrpc/stats.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "lib/internal/auth_token.h"
#include "lib/internal/client_metrics.h"

namespace etcdgrpc::internal {

struct EndpointStubs {
  std::string address;  // "host:port"
  // Null when the stubs are mocks.
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::StubInterface> kv;
  std::unique_ptr<etcdserverpb::Lease::StubInterface> lease;
  std::unique_ptr<etcdserverpb::Watch::StubInterface> watch;
  std::unique_ptr<etcdserverpb::Maintenance::StubInterface> maintenance;
  std::unique_ptr<etcdserverpb::Cluster::StubInterface> cluster;
  std::unique_ptr<etcdserverpb::Auth::StubInterface> auth;
  // The channel uses TLS; the client certificate it presents (file name, empty: none). Only
  // for explaining connection failures.
  bool tls = false;
  std::string tls_client_cert = {};
};

// A context a blocking call registers while it runs, so that a shutdown can
// cancel it (a stream's token refresh or version probe).
class CancelSlot {
 public:
  // Registers `context`; false (and nothing registered) once cancelled.
  bool Set(grpc::ClientContext* context);
  void Clear();
  // Cancels the registered context and any later Set().
  void Cancel();

 private:
  Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class Connection {
 public:
  // Creates a channel per endpoint (with the wire log interceptor when asked)
  // and, with a non-zero dial timeout, waits until one endpoint is ready.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Connection>> Dial(
      const ClientOptions& options);

  // Over ready-made stubs (tests).
  Connection(const ClientOptions& options, std::vector<std::unique_ptr<EndpointStubs>> endpoints);

  size_t size() const { return endpoints_.size(); }
  EndpointStubs& endpoint(size_t index) { return *endpoints_[index]; }
  const std::vector<std::string>& addresses() const { return addresses_; }

  // Index of the endpoint calls go to now.
  size_t current() const { return current_.load(std::memory_order_relaxed); }
  // The endpoint for a new call or stream: the current one, unless it is
  // suspect or its channel is in TRANSIENT_FAILURE and another endpoint is
  // neither (then that one becomes current). With every endpoint unusable,
  // the one whose suspicion ends first.
  size_t PickEndpoint();
  // Like PickEndpoint(), but never `avoid` while another endpoint exists
  // (a stream that just failed there moves on even if all are suspect).
  size_t PickEndpointAvoiding(size_t avoid);
  // The endpoint failed (UNAVAILABLE, a stall we cancelled ourselves, an
  // unanswered probe, a call past its deadline): it becomes suspect, and
  // later calls go elsewhere while a healthy endpoint exists.
  void ReportFailure(size_t index, absl::string_view reason);
  // The endpoint answered: it is healthy again. Cheap (one relaxed load)
  // when it already is, so streams call it per message.
  void ReportHealthy(size_t index) {
    HealthRecord& health = *health_[index];
    if (health.consecutive.load(std::memory_order_relaxed) != 0 ||
        health.suspect_until_ns.load(std::memory_order_relaxed) != 0) {
      ClearSuspicion(index);
    }
  }
  bool IsSuspect(size_t index) const;
  std::vector<EndpointHealth> health() const;

  // Whether etcd on the endpoint answers RequestProgress() early, with the
  // store revision ahead of events still queued (etcd < 3.4.25, < 3.5.8):
  // unknown until VersionOf() found out; forgotten when the endpoint fails
  // (it may come back as another release).
  enum class ProgressSafety { kUnknown, kEarly, kSafe };
  ProgressSafety progress_safety(size_t index) const {
    return health_[index]->progress.load(std::memory_order_relaxed);
  }
  // Asks the endpoint for its version (Maintenance.Status, bounded by
  // `timeout`, cancellable through `slot`) and records its progress safety.
  // False when the endpoint did not answer (deadline, unavailable,
  // cancelled); an error answer still counts as an answer.
  [[nodiscard]] bool LearnVersion(size_t index, absl::Duration timeout, CancelSlot* slot);
  static ProgressSafety ProgressSafetyOf(absl::string_view version);

  // The client is closing: unary calls started from now on fail with
  // CANCELLED ("the client was closed").
  void Close() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // Deadline for a unary call starting now.
  absl::Time UnaryDeadline() const { return absl::Now() + request_timeout_; }
  // Applies the deadline and the metadata every call carries (the auth token
  // too). Returns the generation of the token sent (0: none), for
  // RefreshToken().
  uint64_t PrepareContext(grpc::ClientContext* context, absl::Time deadline) const;
  // The metadata of a long-lived stream (no deadline); returns as above.
  uint64_t PrepareStreamContext(grpc::ClientContext* context) const;
  absl::Duration request_timeout() const { return request_timeout_; }

  bool retry_writes() const { return retry_writes_; }

  // The client's metric handles; null when metrics are off.
  ClientMetrics* metrics() const { return metrics_.get(); }

  // Authentication (ClientOptions::username/password, auth_token.h): true
  // when the client has credentials.
  bool has_credentials() const { return auth_.has_credentials(); }
  // True when credentials are set but no token was obtained yet.
  bool NeedsToken() const { return auth_.Missing(); }
  // Gets a token with Auth.Authenticate, unless the current token is newer
  // than `refused_generation` (another call already refreshed it). Calls
  // prepared with token generation `refused_generation` were refused (see
  // IsTokenRefused()); pass 0 to get the first token. Authentications are
  // serialized, so concurrent refusals cause one Authenticate. An etcd
  // without authentication enabled is fine: calls go without a token, like
  // etcd's Go client does.
  [[nodiscard]] absl::Status RefreshToken(uint64_t refused_generation, absl::Time deadline,
                                          CancelSlot* slot = nullptr);
  // The client changed a user's password (AuthToken::PasswordChanged).
  void PasswordChanged(std::string_view username, std::string_view password) {
    auth_.PasswordChanged(username, password);
  }
  // etcd refused a call because of its token (AuthToken::IsRefused).
  static bool IsTokenRefused(const grpc::Status& status) { return AuthToken::IsRefused(status); }
  static bool IsTokenRefusedReason(absl::string_view message) {
    return AuthToken::IsRefusedReason(message);
  }

 private:
  absl::Status WaitForReady(absl::Duration timeout);

  struct HealthRecord {
    // MonoNow() nanoseconds until which the endpoint is suspect; 0: healthy.
    std::atomic<int64_t> suspect_until_ns{0};
    std::atomic<uint32_t> consecutive{0};
    std::atomic<ProgressSafety> progress{ProgressSafety::kUnknown};
    mutable Mutex mu;
    uint64_t failures ABSL_GUARDED_BY(mu) = 0;
    std::string last_failure ABSL_GUARDED_BY(mu);
  };
  void ClearSuspicion(size_t index);
  // Usable for a new call: not suspect, channel not in TRANSIENT_FAILURE.
  bool Usable(size_t index, int64_t now_ns, bool try_to_connect) const;
  size_t Pick(size_t start, std::optional<size_t> avoid);

  std::vector<std::unique_ptr<EndpointStubs>> endpoints_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<HealthRecord>> health_;
  std::atomic<size_t> current_{0};
  std::atomic<bool> closed_{false};
  const absl::Duration suspect_initial_;
  const absl::Duration suspect_max_;
  absl::Duration request_timeout_;
  bool require_leader_;
  bool retry_writes_;

  AuthToken auth_;
  std::unique_ptr<ClientMetrics> metrics_;
};

}  // namespace etcdgrpc::internal
