// Health-aware registration: one call sets both the gRPC health status of an
// instance's server (grpc.health.v1, the server's HealthCheckServiceInterface)
// and its registry record, and a graceful drain for shutdown. See
// docs/registry-health.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/registry/registration.h"
#include "etcdgrpc/registry/service_instance.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace etcdgrpc::registry {

// What a NOT_SERVING status does to the registry record.
enum class NotServingAction {
  // The key is deleted and its lease revoked (Deregister); SERVING registers
  // again (Grant + Txn, a new lease). Every client sees it, whatever it reads
  // the registry with.
  kRemove,
  // The key stays, its metadata gains kHealthMetadataKey = kNotServingValue
  // (one guarded Put on the same lease); SERVING removes the pair. Only
  // resolvers that read the mark skip the endpoint (ours do); others keep
  // calling it. Needs a codec that keeps metadata: Register refuses it with
  // FailedPrecondition for one that drops or refuses it (naming with
  // write_metadata = false, go-zero, host:port).
  kMark,
};

// The metadata pair of a record marked NOT_SERVING (NotServingAction::kMark).
inline constexpr std::string_view kHealthMetadataKey = "health";
inline constexpr std::string_view kNotServingValue = "NOT_SERVING";

struct ETCDGRPC_EXPORT ServingOptions {
  NotServingAction not_serving = NotServingAction::kRemove;
  // The gRPC health service names whose status follows SetServing(). Each
  // must be "" (the server as a whole) or a service the server serves.
  // Empty: "" and every service the server serves (but the health service).
  std::vector<std::string> health_services = {};
  // False: starts NOT_SERVING (with kRemove, nothing is written until
  // SetServing(true); with kMark, the record is written marked).
  bool serving = true;
};

struct ETCDGRPC_EXPORT DrainOptions {
  // How long to wait, after the key is deleted, for every reachable etcd
  // member to have applied the deletion (so every resolver's watch, on any
  // member, has been sent it).
  absl::Duration propagation_timeout = absl::Seconds(2);
  // Then how long the server still serves: clients' resolvers apply the
  // event and calls already picked arrive (measured: the
  // not_serving_propagation bench, bench/README.md).
  absl::Duration grace = absl::Milliseconds(100);
  // grpc::Server::Shutdown(now + this): calls in flight get this long to
  // finish, then are cancelled.
  absl::Duration shutdown_deadline = absl::Seconds(1);
  // False: the server is left running (the caller shuts it down).
  bool shutdown_server = true;
};

// One step of a drain: its outcome and how long it took.
struct ETCDGRPC_EXPORT DrainStep {
  absl::Status status;
  absl::Duration took = absl::ZeroDuration();
};

struct ETCDGRPC_EXPORT DrainReport {
  // Health statuses set to NOT_SERVING.
  DrainStep not_serving;
  // Registration::Deregister(): the key deleted and the lease revoked
  // (bounded by the client's request time-out).
  DrainStep deregister;
  // Every reachable member's revision at or past the deletion's (bounded by
  // DrainOptions::propagation_timeout). FAILED_PRECONDITION when the
  // deregistration failed (nothing to wait for: the key expires with its
  // lease); DEADLINE_EXCEEDED when a member lagged past the bound.
  DrainStep propagate;
  // Members asked, members that answered at or past the deletion's
  // revision, and members that did not answer (down or unreachable).
  int members = 0;
  int members_applied = 0;
  int members_unreachable = 0;
  DrainStep grace;
  // grpc::Server::Shutdown with the deadline.
  DrainStep shutdown;
  absl::Duration total = absl::ZeroDuration();

  // The first step that failed, else OK.
  [[nodiscard]] absl::Status status() const;
  // One line: each step's outcome and duration.
  [[nodiscard]] std::string ToString() const;
};

namespace internal {
struct ServingState;
}  // namespace internal

// A registration that follows its gRPC server's serving status. Movable; the
// methods are thread-safe (calls are serialized). The server must have been
// built after grpc::EnableDefaultHealthCheckService(true) and must outlive
// this object. The Registrar may be destroyed first (it deregisters; a
// later SetServing(true) then fails with FAILED_PRECONDITION).
//
// The listener hears the registration's states as one registration: with
// kRemove, SetServing(false) deregisters without telling it (the caller
// asked), and SetServing(true) is heard as kReregistered with the new lease;
// kDeregistered comes once, last, from Drain(), Deregister() or the
// destructor. The listener is called with no lock of this library held;
// SetServing(), Update(), Drain() and Deregister() called from inside it (on
// whichever thread it runs) return FailedPrecondition: one could wait for
// the listener call itself.
class ETCDGRPC_EXPORT ServingRegistration {
 public:
  // Sets the health statuses per options.serving and registers `instance`
  // with `registrar` (kMark and not serving: marked). InvalidArgument for a
  // null server or a health service name the server does not serve (the
  // error lists what it serves); FailedPrecondition when the server has no
  // health service; the registrar's errors otherwise. Nothing is written on
  // failure, and the health statuses are set back to what they were (a
  // service the health service did not know is left NOT_SERVING).
  [[nodiscard]] static absl::StatusOr<ServingRegistration> Register(
      Registrar& registrar, grpc::Server* server, ServiceInstance instance,
      const ServingOptions& options = {}, RegistrationListener* listener = nullptr,
      const RegisterOptions& register_options = {});

  ServingRegistration();
  ServingRegistration(ServingRegistration&&) noexcept;
  ServingRegistration& operator=(ServingRegistration&&) noexcept;
  // Deregisters (the server is left as it is).
  ~ServingRegistration();

  // Sets every followed health status, then the record: NOT_SERVING removes
  // or marks it (ServingOptions::not_serving), SERVING registers it again or
  // removes the mark. The health status is set even when etcd fails; the
  // error then says what the record is (call again to retry).
  // FailedPrecondition after Drain()/Deregister().
  [[nodiscard]] absl::Status SetServing(bool serving);
  [[nodiscard]] bool serving() const;

  // Replaces the metadata (kept across SetServing(); the NOT_SERVING mark is
  // added on top while marked). While removed, used at the next SetServing(true).
  [[nodiscard]] absl::Status Update(std::map<std::string, std::string> metadata);

  // Graceful drain: NOT_SERVING (health), Deregister, wait until the
  // deletion has propagated (bounded), a grace, then the server's Shutdown
  // with a deadline. Every step runs whatever the earlier ones returned;
  // the report says what each did. Bounded by the client's request time-out
  // + propagation_timeout + grace + shutdown_deadline, after an operation in
  // progress on another thread and a listener call in progress (as long as
  // the listener takes; docs/registry-health.md).
  [[nodiscard]] DrainReport Drain(const DrainOptions& options = {});

  // Health NOT_SERVING and the record deleted (no propagation wait, the
  // server left running). Idempotent.
  absl::Status Deregister();

  // The registration's state (kDeregistered while removed by kRemove).
  [[nodiscard]] RegistrationState state() const;
  [[nodiscard]] std::string key() const;
  // 0 while removed.
  [[nodiscard]] int64_t lease_id() const;
  [[nodiscard]] ServiceInstance instance() const;
  // The health service names this registration sets.
  [[nodiscard]] std::vector<std::string> health_services() const;
  [[nodiscard]] bool valid() const { return state_ != nullptr; }

 private:
  explicit ServingRegistration(std::shared_ptr<internal::ServingState> state);

  std::shared_ptr<internal::ServingState> state_;
};

}  // namespace etcdgrpc::registry
