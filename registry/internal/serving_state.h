// The state behind a ServingRegistration: the server's health service, the
// registration (absent while removed), the listener forwarder of each
// registration, and the lock that serializes SetServing, Update and Drain.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "etcdgrpc/registry/registration.h"
#include "etcdgrpc/registry/serving.h"
#include "registry/internal/registrar_shared.h"

namespace grpc {
class HealthCheckServiceInterface;
}  // namespace grpc

namespace etcdgrpc::registry::internal {

struct ServingState;

// Passes one Registration's events to the user's listener (through
// ServingState::Tell) so that a sequence of registrations reads as one: the
// kDeregistered of a NOT_SERVING removal is dropped, and the kRegistered of
// a restore is told as kReregistered.
class ForwardingListener final : public RegistrationListener {
 public:
  ForwardingListener(ServingState* state, bool restored) : state_(state), restored_(restored) {}
  void OnStateChange(const RegistrationEvent& event) override;
  // The coming kDeregistered is a removal, not the end.
  void Withdraw() { withdrawn_.store(true, std::memory_order_release); }

 private:
  ServingState* const state_;
  const bool restored_;
  std::atomic<bool> withdrawn_{false};
};

struct ServingState {
  std::shared_ptr<RegistrarShared> registrar;
  grpc::Server* server = nullptr;
  grpc::HealthCheckServiceInterface* health = nullptr;
  std::vector<std::string> health_services;
  NotServingAction action = NotServingAction::kRemove;
  RegistrationListener* user_listener = nullptr;
  RegisterOptions register_options;
  std::string key;

  // Serializes SetServing, Update, Drain and Deregister; held across their
  // etcd calls, never across a wait for `mu`'s holders nor across a call of
  // the user's listener (Tell). Every write of the fields below holds both.
  Mutex ops ABSL_ACQUIRED_BEFORE(mu);
  // The thread holding `ops`: the listener calls it causes (the
  // kDeregistered that Registration::Deregister makes on its caller's
  // thread) wait in `told` until it lets go.
  std::atomic<std::thread::id> op_thread{};

  // The user's listener calls, made in order by one thread at a time with
  // no library lock held.
  Mutex listener_mu;
  std::deque<RegistrationEvent> told ABSL_GUARDED_BY(listener_mu);
  bool telling ABSL_GUARDED_BY(listener_mu) = false;
  ::etcdgrpc::internal::CondVar told_all;

  // Guards the fields for the accessors (state(), lease_id(), ...).
  mutable Mutex mu;
  bool serving ABSL_GUARDED_BY(mu) = true;
  // Drain() or Deregister() ran: nothing may be registered again.
  bool ended ABSL_GUARDED_BY(mu) = false;
  // The instance with the caller's metadata (without the mark).
  ServiceInstance instance ABSL_GUARDED_BY(mu);
  // Invalid while removed (kRemove and not serving, or after the end).
  Registration registration ABSL_GUARDED_BY(mu);
  // The forwarders of the current and the previous registration (only
  // touched under `ops`): a Deregister() returns after its listener calls,
  // so older ones are unused.
  std::unique_ptr<ForwardingListener> forwarder;
  std::unique_ptr<ForwardingListener> previous_forwarder;

  // The instance as it must be written now: marked while not serving (kMark).
  ServiceInstance Written() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Under `ops`: registers Written(); `restored`: the listener hears
  // kReregistered.
  absl::Status Register(bool restored) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops);
  // Under `ops`: deletes the record; `end`: the listener hears kDeregistered.
  absl::Status Remove(bool end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops);
  // Under `ops`: the registration, which only holders of `ops` replace.
  Registration* Current() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops);
  // Under `ops`, the end (Drain, Deregister): marks it ended and sets the
  // health statuses NOT_SERVING; true when an earlier end ran.
  bool EndHealth() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops);
  // Then deletes the record (kDeregistered queued for the listener).
  absl::Status EndRecord(bool already_ended) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops);
  void SetHealth(bool serving_now) const;

  // Queues `event` for the user's listener and, unless this thread holds
  // `ops`, makes the queued calls (TellQueued). An exception the listener
  // threw on this thread is returned as an error.
  absl::Status Tell(RegistrationEvent event);
  // Makes the queued calls, unless another thread is making them (it makes
  // these too).
  absl::Status TellQueued();
  // Until every queued call was made, by this thread or another.
  void TellAll();
  // This thread is inside this registration's listener call: an operation
  // made from it is refused (it could wait for the call itself).
  bool InListenerCall() const;
  // Whether each of health_services is SERVING now (a name the health
  // service does not know reads false), for RestoreHealth().
  std::vector<bool> ReadHealth() const;
  void RestoreHealth(const std::vector<bool>& statuses) const;
};

// Holds `ops` for one operation, then makes the listener calls it caused;
// refuses one made from the registration's listener call (on any thread) or
// from inside another operation.
class ABSL_SCOPED_LOCKABLE OperationScope {
 public:
  explicit OperationScope(ServingState& state) ABSL_EXCLUSIVE_LOCK_FUNCTION(state.ops);
  ~OperationScope() ABSL_UNLOCK_FUNCTION();
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;
  // FailedPrecondition when called from the registration's own listener.
  [[nodiscard]] const absl::Status& status() const { return status_; }

 private:
  ServingState& state_;
  absl::Status status_;
  bool locked_ = false;
};

// FailedPrecondition (naming the codec) unless `instance` marked NOT_SERVING
// keeps its mark through the registrar's codec, Encode then Decode: kMark
// with a codec that drops or refuses metadata would mark nothing.
absl::Status CheckMarkSurvives(const RegistrarShared& registrar, const ServiceInstance& instance);

// The health service names to follow: `wanted`, each checked against what
// `server` serves, or when empty "" and every service it serves but the
// health service. InvalidArgument naming an unknown one.
absl::StatusOr<std::vector<std::string>> ResolveHealthServices(
    grpc::Server& server, const std::vector<std::string>& wanted);

}  // namespace etcdgrpc::registry::internal
