// Typed results of etcd's Lease service, and keeping leases alive: a listener
// per kept lease and the RAII handle that stops its renewals.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

struct ETCDGRPC_EXPORT LeaseGrantResult {
  ResponseHeader header;
  int64_t id = 0;
  // The TTL etcd granted, in seconds; etcd raises a TTL below its minimum.
  int64_t ttl = 0;
  // When the client sent the LeaseGrant request: the lease's time runs from
  // (at the latest) then. Pass it on as KeepOptions::granted_at.
  absl::Time granted_at = absl::InfinitePast();
};

struct ETCDGRPC_EXPORT LeaseTimeToLiveResult {
  ResponseHeader header;
  int64_t id = 0;
  // Seconds left; -1 when the lease has expired or does not exist.
  int64_t ttl = 0;
  // The TTL the lease was granted with.
  int64_t granted_ttl = 0;
  // Keys attached to the lease (when asked for).
  std::vector<std::string> keys;
};

struct ETCDGRPC_EXPORT LeaseKeepAliveResult {
  ResponseHeader header;
  int64_t id = 0;
  // The TTL the lease was renewed with, in seconds.
  int64_t ttl = 0;
};

struct ETCDGRPC_EXPORT LeaseListResult {
  ResponseHeader header;
  std::vector<int64_t> ids;
};

// Why the client stopped keeping a lease.
enum class LeaseLossReason {
  // etcd answered a renewal with TTL <= 0: the lease expired, was revoked by
  // someone, or never existed.
  kNotFound,
  // No renewal was answered before the lease's deadline (last answered
  // renewal + TTL): the lease must be assumed expired.
  kDeadlinePassed,
  // This client revoked it (Client::Revoke).
  kRevoked,
  // The client was destroyed; nothing renews the lease any more.
  kClientClosed,
};

struct ETCDGRPC_EXPORT LeaseLoss {
  LeaseLossReason reason;
  // A status saying the same in words, with etcd's message where there is one
  // (kNotFound: NOT_FOUND "etcdserver: requested lease not found").
  absl::Status status;
};

// Hears about one kept lease. Calls for one handle never overlap and come in
// order; OnLost comes at most once and is the last call. They run on the
// client's stream or timer thread, never under a library lock, and should
// return quickly: a slow listener delays renewals of other leases.
class ETCDGRPC_EXPORT LeaseListener {
 public:
  virtual ~LeaseListener() = default;
  // The lease was renewed; `ttl` is the TTL etcd renewed it with (seconds).
  virtual void OnRenewed(int64_t /*lease_id*/, int64_t /*ttl*/) {}
  virtual void OnLost(int64_t /*lease_id*/, const LeaseLoss& /*loss*/) {}
};

struct ETCDGRPC_EXPORT KeepOptions {
  // The lease's TTL if known (e.g. from Grant): its first deadline is
  // granted_at + ttl. Unknown (zero): an answer to the first renewal (which
  // brings the TTL) must come within the request time-out, or the lease is
  // reported lost (kDeadlinePassed): until then it might expire at any time.
  absl::Duration ttl = absl::ZeroDuration();
  // When the lease was granted (LeaseGrantResult::granted_at); unset: now.
  absl::Time granted_at = absl::InfinitePast();
};

namespace internal {
class LeaseKeeper;
struct LeaseHolder;
}  // namespace internal

// Keeps one lease alive while it exists. Destroying it (or Stop()) stops the
// renewals of this handle only; another handle for the same lease keeps it.
// It may outlive the Client (it then does nothing).
class ETCDGRPC_EXPORT KeptLease {
 public:
  KeptLease() = default;
  KeptLease(KeptLease&&) noexcept;
  KeptLease& operator=(KeptLease&&) noexcept;
  ~KeptLease();

  // Stops renewing through this handle and waits until a listener call in
  // progress for it has returned (unless called from that call). No listener
  // call starts afterwards.
  void Stop();
  int64_t id() const { return id_; }
  // False for a default-constructed or moved-from handle and after Stop().
  [[nodiscard]] bool valid() const { return holder_ != nullptr; }

  // Made by Client::KeepAlive.
  KeptLease(std::shared_ptr<internal::LeaseKeeper> keeper,
            std::shared_ptr<internal::LeaseHolder> holder, int64_t id);

 private:
  std::shared_ptr<internal::LeaseKeeper> keeper_;
  std::shared_ptr<internal::LeaseHolder> holder_;
  int64_t id_ = 0;
};

}  // namespace etcdgrpc
