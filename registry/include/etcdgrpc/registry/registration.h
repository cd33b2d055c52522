// A live registration: the RAII handle returned by Registrar::Register, its
// states and the listener that hears how it changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry {

enum class RegistrationState {
  // The key is written with our lease and the lease is kept alive.
  kRegistered,
  // The lease was lost (etcd unreachable for longer than the TTL, lease
  // revoked) or the key was deleted or taken over by someone else. The
  // registration keeps trying to register again, with backoff.
  kLost,
  // Registered again after kLost, with a new lease.
  kReregistered,
  // Deregister() ran (or the handle was destroyed): nothing is kept any more.
  kDeregistered,
};

// "registered", "lost", "reregistered", "deregistered".
[[nodiscard]] std::string_view RegistrationStateName(RegistrationState state);

struct RegistrationEvent {
  RegistrationState state = RegistrationState::kRegistered;
  // Why: for kLost the cause (NOT_FOUND: key deleted or lease gone;
  // ALREADY_EXISTS: another instance holds the key; DEADLINE_EXCEEDED or
  // UNAVAILABLE: etcd unreachable); for kDeregistered the result of deleting
  // the key and revoking the lease. OK otherwise.
  absl::Status reason;
  // The lease now holding the key and the TTL etcd granted it (0 for kLost
  // and kDeregistered).
  int64_t lease_id = 0;
  absl::Duration ttl = absl::ZeroDuration();
};

// Hears one registration's state changes. Calls for one registration never
// overlap, come in order and never run under a registry or client lock. They
// run on the Registrar's one background thread (shared by all its
// registrations), so they should return quickly. While lost, kLost is
// reported again whenever the reason's code changes (say, etcd unreachable,
// then the key held by another instance). kDeregistered is the last call.
class RegistrationListener {
 public:
  virtual ~RegistrationListener() = default;
  virtual void OnStateChange(const RegistrationEvent& event) = 0;
};

namespace internal {
class RegistrationCore;
}  // namespace internal

// Owns one registration: keeps it registered while it lives and deregisters
// on destruction. Movable; the methods are thread-safe. It may outlive the
// Registrar (which deregisters it), never the Client.
class Registration {
 public:
  Registration() = default;
  Registration(Registration&& other) noexcept;
  // Deregisters the registration this handle held before.
  Registration& operator=(Registration&& other) noexcept;
  ~Registration();

  // Replaces the metadata (the value is rewritten; the lease stays) with
  // Txn If(lease(key) == our lease) Then(Put). FailedPrecondition when the
  // key is no longer ours (lost, taken over or deregistered); the new
  // metadata is then used when the instance is registered again.
  // InvalidArgument (and no change) for metadata that is not valid UTF-8 or
  // makes the value too large.
  [[nodiscard]] absl::Status Update(std::map<std::string, std::string> metadata);

  // Deletes the key if our lease still holds it, revokes the lease, stops
  // keeping and watching, and reports kDeregistered. Bounded by the client's
  // request timeout; after a failure (etcd unreachable) the lease simply
  // expires after its TTL. Idempotent: later calls return OK. Called from
  // the listener's own call, kDeregistered is delivered when that call
  // returns; otherwise before Deregister() returns.
  absl::Status Deregister();

  [[nodiscard]] RegistrationState state() const;
  // The instance's key in etcd.
  [[nodiscard]] const std::string& key() const;
  // The lease holding the key now; 0 while lost or after Deregister().
  [[nodiscard]] int64_t lease_id() const;
  // The TTL etcd granted the current lease (etcd raises TTLs below its
  // minimum, so this may exceed RegistrarOptions::ttl).
  [[nodiscard]] absl::Duration ttl() const;
  // The instance as last registered or updated.
  [[nodiscard]] ServiceInstance instance() const;
  // False for a moved-from or default-constructed handle.
  [[nodiscard]] bool valid() const { return core_ != nullptr; }

  // Made by Registrar::Register.
  explicit Registration(std::shared_ptr<internal::RegistrationCore> core);

 private:
  std::shared_ptr<internal::RegistrationCore> core_;
};

}  // namespace etcdgrpc::registry
