// A concurrency session (Go's clientv3/concurrency.Session): one lease, kept
// alive on the client's shared keep-alive stream, that the locks and
// elections of the session attach their keys to. When the lease is lost,
// everything holding through it is lost: the session says so at once to
// whoever subscribed, and answers status() with the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc::concurrency {

namespace internal {
class LossNotifier;
struct LossSubscriber;
}  // namespace internal

struct ETCDGRPC_EXPORT SessionOptions {
  // TTL of the lease the session grants, in seconds; <= 0 means 60 (Go's
  // default). etcd raises a TTL below its minimum.
  int64_t ttl_seconds = 60;
  // Non-zero: keep this existing lease instead of granting one (to take back a
  // lock or an election after a restart, like Go's WithLease). NOT_FOUND when
  // etcd no longer has it.
  int64_t lease_id = 0;
};

// Called once when the session's lease is lost or the session is closed, with
// FAILED_PRECONDITION naming the lease and the reason. Runs on a client thread
// (or, when already lost, inside OnLoss()), never under a library lock:
// usually the client's keep-alive stream thread, so it must not block there
// (a blocking call such as Unlock or Resign delays every other lease's
// renewals); hand longer work to a thread of your own.
using SessionLossCallback = std::function<void(const absl::Status& why)>;

// A subscription to a session's loss; dropping it (or Cancel()) ends it and
// waits for a call in progress unless called from that call.
class ETCDGRPC_EXPORT SessionSubscription {
 public:
  SessionSubscription() = default;
  SessionSubscription(SessionSubscription&&) noexcept;
  SessionSubscription& operator=(SessionSubscription&&) noexcept;
  ~SessionSubscription();
  void Cancel();
  [[nodiscard]] bool valid() const { return subscriber_ != nullptr; }

  // Made by Session::OnLoss.
  SessionSubscription(std::shared_ptr<internal::LossNotifier> notifier,
                      std::shared_ptr<internal::LossSubscriber> subscriber);

 private:
  std::shared_ptr<internal::LossNotifier> notifier_;
  std::shared_ptr<internal::LossSubscriber> subscriber_;
};

// Thread-safe. Holds a Client::Share() handle: it may outlive the Client
// (it is then lost with kClientClosed's reason).
class ETCDGRPC_EXPORT Session {
 public:
  // Grants a lease (or checks options.lease_id) and keeps it.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Session>> Create(
      Client& client, const SessionOptions& options = {});

  // Stops keeping the lease (without revoking it: Close() does); subscribers
  // hear nothing more.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] int64_t lease_id() const { return lease_id_; }
  // The lease's TTL in seconds, as etcd granted or last renewed it.
  [[nodiscard]] int64_t ttl_seconds() const { return ttl_seconds_; }
  // OK while the lease is kept; FAILED_PRECONDITION ("session lease <id>
  // lost: <why>" or "... closed") once it is not.
  [[nodiscard]] absl::Status status() const;
  [[nodiscard]] bool lost() const { return !status().ok(); }

  // `callback` hears the loss (once). Already lost: it runs now, on this
  // thread, before OnLoss returns.
  [[nodiscard]] SessionSubscription OnLoss(SessionLossCallback callback);

  // Stops keeping the lease, tells subscribers ("closed"), then revokes the
  // lease, which deletes every key of the session (its locks and election
  // keys). The revoke's error, if any (the lease then expires after its TTL).
  absl::Status Close();
  // Stops keeping the lease without revoking it (Go's Orphan): the keys stay
  // until the lease expires. Subscribers hear "closed".
  void Orphan();

  // The client the session's calls go through (a Share() handle).
  [[nodiscard]] Client& client() const { return *client_; }

  // Tells the session that etcd answered "lease not found" to a call with its
  // lease: it is lost now, whatever the keep-alive says later.
  void MarkLost(const absl::Status& etcd_error);

  // Made by Create().
  Session(std::shared_ptr<Client> client, int64_t lease_id, int64_t ttl_seconds,
          std::shared_ptr<internal::LossNotifier> notifier);

 private:
  const std::shared_ptr<Client> client_;
  const int64_t lease_id_;
  const int64_t ttl_seconds_;
  // Also holds the KeptLease (under its lock).
  const std::shared_ptr<internal::LossNotifier> notifier_;
};

}  // namespace etcdgrpc::concurrency
