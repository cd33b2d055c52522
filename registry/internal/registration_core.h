// The state machine behind one Registration: registering (Grant + guarded
// Txn), staying registered through a Session, noticing a loss, registering
// again with backoff, updating, deregistering, and delivering listener calls
// in order on the Registrar's scheduler thread. See README.md, "Registry".
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registration.h"
#include "etcdgrpc/registry/service_instance.h"
#include "registry/internal/registrar_shared.h"

namespace etcdgrpc::registry::internal {

class Session;

class RegistrationCore : public std::enable_shared_from_this<RegistrationCore> {
 public:
  RegistrationCore(std::shared_ptr<RegistrarShared> shared, ServiceInstance instance,
                   std::string key, RegistrationListener* listener);
  ~RegistrationCore();

  // The first registration, on the calling thread. On failure nothing stays
  // written (the granted lease is revoked).
  [[nodiscard]] absl::Status Start(bool replace);
  [[nodiscard]] absl::Status Update(std::map<std::string, std::string> metadata);
  absl::Status Deregister();

  RegistrationState state() const;
  int64_t lease_id() const;
  absl::Duration ttl() const;
  ServiceInstance instance() const;
  const std::string& key() const { return key_; }

  // From a Session (library threads): the registration of `generation` is
  // gone, or its watch ended with `status` and must be checked.
  void SessionLost(uint64_t generation, absl::Status reason);
  void SessionWatchEnded(uint64_t generation, absl::Status status);

 private:
  enum class Phase {
    kStarting,  // Start() has not succeeded yet
    kActive,    // the key is ours; session_ keeps it (once installed)
    kLost,      // re-registering: an attempt in flight or waiting for its retry
    kClosed,    // deregistered
  };
  // One re-registration attempt: the granted lease and the value to write.
  struct Attempt {
    int64_t lease_id = 0;
    int64_t ttl_seconds = 0;
    ServiceInstance instance;
    std::string value;
  };

  // Scheduler thread.
  void HandleLoss(uint64_t generation, absl::Status reason);
  void CheckAfterWatchEnd(uint64_t generation, absl::Status status);
  void StartAttempt();
  void DeliverEvents();
  // Completions of asynchronous calls (gRPC threads).
  void OnGranted(absl::StatusOr<LeaseGrantResult> grant);
  void TryTxn(Attempt attempt, int64_t expected_holder, int tries);
  void OnAttemptTxn(Attempt attempt, int tries, absl::StatusOr<TxnResult> result);
  void FailAttempt(absl::Status status);

  // The key is ours with `lease_id` since `put_revision`: report `state`,
  // start a session. Returns false (and revokes the lease) when closed.
  void Activate(int64_t lease_id, int64_t ttl_seconds, int64_t put_revision,
                const ServiceInstance& instance, RegistrationState state);
  // Pushes the current metadata when an Update() raced with a
  // re-registration that wrote older metadata.
  void PushMetadata(uint64_t generation);
  // Queues a listener call (and the state change) for the scheduler thread.
  void Notify(RegistrationState state, absl::Status reason, int64_t lease_id, absl::Duration ttl)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberOldLease(int64_t lease_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsOldLease(int64_t lease_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Revokes without waiting for the answer (tidying: an unkept lease expires
  // after its TTL anyway).
  void RevokeInBackground(int64_t lease_id);
  TxnRequest GuardedPut(int64_t expected_holder, const std::string& value, int64_t lease_id) const;

  const std::shared_ptr<RegistrarShared> shared_;
  const std::string key_;
  RegistrationListener* const listener_;

  // Serializes Update() calls, so their writes reach etcd in call order.
  absl::Mutex update_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kStarting;
  RegistrationState state_ ABSL_GUARDED_BY(mu_) = RegistrationState::kRegistered;
  // The desired instance (metadata from the last Update) and when it was
  // last registered.
  ServiceInstance instance_ ABSL_GUARDED_BY(mu_);
  // Incremented per (re)registration; sessions of older generations are
  // ignored.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t lease_id_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t granted_ttl_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Session> session_ ABSL_GUARDED_BY(mu_);
  // Leases this registration held before: a key still held by one of them
  // (etcd restarted and revived it) is ours to take over.
  std::vector<int64_t> old_leases_ ABSL_GUARDED_BY(mu_);
  bool attempt_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;  // failed attempts since the loss
  absl::Status last_reason_ ABSL_GUARDED_BY(mu_);
  // Listener calls not yet made, and whether the scheduler is making one.
  std::deque<RegistrationEvent> pending_ ABSL_GUARDED_BY(mu_);
  bool delivery_posted_ ABSL_GUARDED_BY(mu_) = false;
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  bool listener_done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcdgrpc::registry::internal
