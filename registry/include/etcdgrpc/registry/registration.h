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
#include "etcdgrpc/export.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry {

enum class RegistrationState {
  // The key is written with our lease and the lease is kept alive.
  kRegistered,
  // The lease was lost (etcd unreachable for longer than the TTL, lease
  // revoked) or the key was deleted or taken over by someone else. The
  // registration keeps trying to register again, with backoff; except when
  // the reason is CANCELLED "the client was closed ...": that is final.
  kLost,
  // Registered again after kLost, with a new lease.
  kReregistered,
  // Deregister() ran (or the handle was destroyed): nothing is kept any more.
  kDeregistered,
};

// "registered", "lost", "reregistered", "deregistered".
[[nodiscard]] ETCDGRPC_EXPORT std::string_view RegistrationStateName(RegistrationState state);

struct ETCDGRPC_EXPORT RegistrationEvent {
  RegistrationState state = RegistrationState::kRegistered;
  // Why: for kLost the cause (NOT_FOUND: key deleted or lease gone;
  // ALREADY_EXISTS: another instance holds the key; DEADLINE_EXCEEDED or
  // UNAVAILABLE: etcd unreachable; CANCELLED: the client was closed, final);
  // for kDeregistered the result of Deregister() (see there), or INTERNAL
  // when a call of the listener threw. OK otherwise.
  absl::Status reason;
  // The lease now holding the key and the TTL etcd granted it (0 for kLost
  // and kDeregistered).
  int64_t lease_id = 0;
  absl::Duration ttl = absl::ZeroDuration();
};

// Hears one registration's state changes. Calls for one registration never
// overlap, come in order and never run under a registry or client lock. They
// run on the Registrar's listener thread, shared by its registrations; one
// that blocks for longer than the client's slow_listener_handoff gets the
// other registrations' calls handed to a new thread, so it delays only its
// own later calls (queued, in order) and a Deregister() of its registration,
// which waits for it; keeping and re-registering go on. While lost, kLost is
// reported again whenever the reason's code changes (say, etcd unreachable,
// then the key held by another instance). kDeregistered is the last call. A
// call that throws ends its registration: it is deregistered and the
// listener hears kDeregistered with INTERNAL and the exception's text as its
// last call; other registrations are not affected. A call may Deregister()
// or destroy its own Registration (kDeregistered comes after it returns).
class ETCDGRPC_EXPORT RegistrationListener {
 public:
  virtual ~RegistrationListener() = default;
  virtual void OnStateChange(const RegistrationEvent& event) = 0;
};

namespace internal {
class RegistrationCore;
}  // namespace internal

// Owns one registration: keeps it registered while it lives and deregisters
// on destruction. Movable; the methods are thread-safe. It may outlive the
// Registrar (which deregisters it) and the Client.
class ETCDGRPC_EXPORT Registration {
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

  // Stops keeping and watching, deletes the key if our lease still holds it
  // and revokes our leases (the current one, and older ones etcd may have
  // revived), all at once, and reports kDeregistered. OK only once etcd's
  // answers show that no key of ours is left: the delete succeeded, the key
  // is absent or held by another instance's lease (left alone), or every
  // lease of ours is revoked. Otherwise the error says why (DEADLINE_EXCEEDED
  // when etcd did not answer within the client's request time-out, which
  // bounds the call; CANCELLED when the client was closed), and the lease
  // expires after its TTL. Idempotent: later calls return OK. Called from
  // the listener's own call, kDeregistered is delivered when that call
  // returns; otherwise before Deregister() returns (waiting for a listener
  // call in progress).
  absl::Status Deregister();

  [[nodiscard]] RegistrationState state() const;
  // The instance's key in etcd. With a codec whose key names the lease
  // (go-zero's), the key of the current lease: it changes when the
  // registration is made again with a new lease.
  [[nodiscard]] std::string key() const;
  // The lease holding the key now; 0 while lost or after Deregister().
  [[nodiscard]] int64_t lease_id() const;
  // The TTL etcd granted the current lease (etcd raises TTLs below its
  // minimum, so this may exceed RegistrarOptions::ttl).
  [[nodiscard]] absl::Duration ttl() const;
  // The instance as last registered or updated.
  [[nodiscard]] ServiceInstance instance() const;
  // False for a moved-from or default-constructed handle; stays true after
  // Deregister(), which state() then reports (docs/design.md, "Handle
  // lifetimes").
  [[nodiscard]] bool valid() const { return core_ != nullptr; }

  // Made by Registrar::Register.
  explicit Registration(std::shared_ptr<internal::RegistrationCore> core);

 private:
  std::shared_ptr<internal::RegistrationCore> core_;
};

}  // namespace etcdgrpc::registry
