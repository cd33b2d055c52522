// Registers service instances in etcd: Grant + one guarded Txn per instance,
// leases kept on the client's shared keep-alive stream, keys watched on its
// shared watch stream, and re-registration with backoff until deregistered.
// See README.md, "Registry".
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/client_options.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registration.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry {

namespace internal {
class RegistrarShared;
}  // namespace internal

struct ETCDGRPC_EXPORT RegistrarOptions {
  // Root of the registry's keys; unset: the codec's default ("/services" for
  // the native codec, "/microservices" for Kratos, "" for naming).
  std::optional<std::string> prefix = std::nullopt;
  // Lease TTL (whole seconds, rounded up; at least 1 s). etcd raises a TTL
  // below its minimum: Registration::ttl() reports what it granted.
  absl::Duration ttl = absl::Seconds(10);
  // Key layout and value format; null: NativeCodec().
  std::shared_ptr<const Codec> codec = nullptr;
  // Delays between attempts to register again after a loss. The cap bounds
  // how long after etcd's return an instance stays unregistered.
  BackoffOptions retry_backoff{.initial = absl::Milliseconds(100),
                               .max = absl::Seconds(2),
                               .multiplier = 2.0,
                               .jitter = 0.2};
  // etcd's request size limit (its --max-request-bytes, 1.5 MiB by default):
  // an instance whose registration request would exceed it is refused with
  // InvalidArgument before anything is written.
  int64_t max_request_bytes = 1572864;
  // --- metrics (issue 16) ---
  // Where registrations, re-registrations, losses and the instances registered now are
  // recorded, per service (docs/metrics.md). Null (the default): off.
  std::shared_ptr<MetricsRegistry> metrics = nullptr;
};

struct ETCDGRPC_EXPORT RegisterOptions {
  // Take the key over even when another live lease holds it (the other
  // registration then sees kLost with ALREADY_EXISTS).
  bool replace = false;
};

// Thread-safe. One background thread per Registrar (started on first use)
// retries re-registrations; listener calls run on a thread of their own
// (plus, while a listener blocks, one more: see RegistrationListener). No
// thread per registration.
//
// Lifetimes: the Registrar holds a Client::Share() handle, so the Client,
// the Registrar and its Registrations may be destroyed in any order. After
// the Client is gone nothing can be kept: every registration reports kLost
// with CANCELLED ("the client was closed ...") once and stops retrying;
// Deregister() then reports CANCELLED (the leases expire after their TTL).
// Destroying the Registrar deregisters the registrations still alive, all at
// once, within one request time-out of the client in total (with etcd
// unreachable it returns after about that long and the leases expire after
// their TTL). It waits for a listener call in progress on another thread;
// it may be destroyed from inside a listener call.
class ETCDGRPC_EXPORT Registrar {
 public:
  explicit Registrar(Client& client, RegistrarOptions options = {});
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  // Grants a lease of the configured TTL and writes the instance's key with
  // it in one Txn: If(lease(key) == 0) Then(Put) Else(Get). A key held by
  // another live lease whose value (decoded by the codec) has the same
  // address is this instance restarted (say, after kill -9, its old lease
  // still alive): the key is taken over at once, in one Txn that compares
  // the holder's lease and mod revision, so a change made meanwhile is not
  // overwritten; the old lease is left to expire. A key held for another
  // address is ALREADY_EXISTS (naming the key and the holder's lease) unless
  // `options.replace`. On any failure the granted lease is revoked and
  // nothing stays written. `listener` (may be null) must outlive the
  // registration; it hears kRegistered first.
  [[nodiscard]] absl::StatusOr<Registration> Register(ServiceInstance instance,
                                                      RegistrationListener* listener = nullptr,
                                                      const RegisterOptions& options = {});

  // The key `instance` is registered under.
  [[nodiscard]] std::string KeyOf(const ServiceInstance& instance) const;
  [[nodiscard]] const std::string& prefix() const;
  [[nodiscard]] const Codec& codec() const;

 private:
  // Registers again after a NOT_SERVING removal, through the shared state
  // (which may outlive this object).
  friend class ServingRegistration;

  std::shared_ptr<internal::RegistrarShared> shared_;
};

}  // namespace etcdgrpc::registry
