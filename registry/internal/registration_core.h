// The state machine behind one Registration: registering (Grant + guarded
// Txn, taking over a key left by the same instance before a restart),
// staying registered through a Session, noticing a loss, registering again
// with backoff, updating, deregistering (verified, bounded by one request
// time-out), and delivering listener calls in order on the Registrar's
// listener runner. See README.md, "Registry".
//
// Phases (phase_), with the listener call each transition makes:
//
//   kStarting --- Start(): Grant + Txn took the key ---> kActive  [kRegistered]
//      |                                                 |   ^
//      | Start() failed: lease revoked,                  |   |
//      | the core is dropped                             |   | a re-registration
//      v                                                 |   | attempt took the
//    (gone)     lease lost, key deleted or overwritten,  |   | key (Activate)
//               compacted watch found it gone, Update()  |   | [kReregistered]
//               found it gone (HandleLoss)    [kLost]    v   |
//                                                       kLost
//                    attempt failed: retried after      |  ^
//                    backoff (FailAttempt); [kLost]     +--+
//                    again when the reason's code changes
//
//   any phase --- Deregister(), ~Registrar, a listener call threw ---> kClosed
//                                                   [kDeregistered, the last]
//
// In kActive a watch that ends is watched again from where it stopped (with
// backoff), or after a compaction the key is read to learn whether it is
// still ours; neither leaves kActive unless the key is gone. With the client
// closed kLost is final (reason CANCELLED) until Deregister(). The methods
// live in four files: the state machine (registration_core.cc), the
// registration attempts (registration_attempt.cc), deregistering
// (registration_deregister.cc) and the listener calls
// (registration_delivery.cc).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registration.h"
#include "etcdgrpc/registry/service_instance.h"
#include "registry/internal/registrar_shared.h"
#include "registry/internal/registry_metrics.h"

namespace etcdgrpc::registry::internal {

using ::etcdgrpc::internal::CondVar;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

class Session;

class RegistrationCore : public std::enable_shared_from_this<RegistrationCore> {
 public:
  // `key`: the instance's key; for a codec whose key names the lease
  // (Codec::key_uses_lease()), the key of each lease replaces it.
  RegistrationCore(std::shared_ptr<RegistrarShared> shared, ServiceInstance instance,
                   std::string key, RegistrationListener* listener);
  ~RegistrationCore();

  // The first registration, on the calling thread. On failure nothing stays
  // written (the granted lease is revoked).
  [[nodiscard]] absl::Status Start(bool replace);
  [[nodiscard]] absl::Status Update(std::map<std::string, std::string> metadata);
  absl::Status Deregister();

  // Deregister() in two steps, so that a Registrar can deregister all its
  // registrations at once: Begin stops keeping and watching and sends the
  // delete and the revokes (null when already deregistered); Finish waits
  // for them until `deadline` (a MonoNow() time, common/clock.h), tells the
  // listener and returns the result.
  struct Teardown;
  [[nodiscard]] std::shared_ptr<Teardown> BeginDeregister(absl::Time deadline);
  absl::Status FinishDeregister(const std::shared_ptr<Teardown>& teardown);

  RegistrationState state() const;
  int64_t lease_id() const;
  absl::Duration ttl() const;
  ServiceInstance instance() const;
  // The key now (it changes with the lease when the codec's key names it).
  std::string key() const;

  // From a Session (library threads): the registration of `generation` is
  // gone, or its watch ended (not by the client closing) and must be
  // checked or re-established.
  void SessionLost(uint64_t generation, absl::Status reason);
  void SessionWatchEnded(uint64_t generation, const WatchEnd& end);

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
    std::string key;  // where this lease writes
    int64_t ttl_seconds = 0;
    absl::Time granted_at = absl::InfinitePast();
    ServiceInstance instance;
    std::string value;
  };

  // State machine (registration_core.cc), scheduler thread.
  void HandleLoss(uint64_t generation, absl::Status reason);
  void CheckAfterCompaction(uint64_t generation, absl::Status status);
  void Rewatch(uint64_t generation, int64_t from);
  // The key is ours with `lease_id` since `put_revision`: report `state`,
  // start a session. When deregistered meanwhile, revokes the lease instead.
  void Activate(int64_t lease_id, const std::string& key, int64_t ttl_seconds,
                absl::Time granted_at, int64_t put_revision, const ServiceInstance& instance,
                RegistrationState state);
  // Pushes the current metadata when an Update() raced with a
  // re-registration that wrote older metadata.
  void PushMetadata(uint64_t generation);
  // CANCELLED: the client was closed, so nothing is kept or retried.
  absl::Status ClientClosedStatus() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberOldLease(int64_t lease_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsOldLease(int64_t lease_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Revokes without waiting for the answer (tidying: an unkept lease expires
  // after its TTL anyway).
  void RevokeInBackground(int64_t lease_id);

  // Re-registration attempts (registration_attempt.cc): scheduler thread,
  // then completions of asynchronous calls (gRPC threads).
  void StartAttempt();
  void OnGranted(absl::StatusOr<LeaseGrantResult> grant);
  void TryTxn(Attempt attempt, int64_t expected_holder, int tries);
  void OnAttemptTxn(Attempt attempt, int tries, absl::StatusOr<TxnResult> result);
  void FailAttempt(absl::Status status);
  // The attempt holding `lease_id` will not be used: revoke it; when
  // deregistered meanwhile, the attempt ends once etcd answered the revoke
  // (so that Deregister knows the key is gone), otherwise it fails with
  // `failure` and is retried.
  void AbandonAttempt(int64_t lease_id, absl::Status failure);
  // Clears attempt_in_flight_ and wakes a FinishDeregister() waiting for it.
  void EndAttemptLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Start() with a codec whose key names the lease: deletes the records of
  // the service at `instance`'s address held by other leases (a killed
  // predecessor's), so that a restart does not wait for their TTL.
  void RemoveStaleRecords(const ServiceInstance& instance, const std::string& key,
                          int64_t lease_id);
  static TxnRequest GuardedPut(const std::string& key, int64_t expected_holder,
                               const std::string& value, int64_t lease_id);

  // Listener calls (registration_delivery.cc).
  // Records the state change and queues its listener call; returns true when
  // the caller must PostDelivery() after releasing the lock.
  [[nodiscard]] bool QueueEvent(RegistrationState state, absl::Status reason, int64_t lease_id,
                                absl::Duration ttl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PostDelivery() ABSL_LOCKS_EXCLUDED(mu_);
  // Listener runner: makes the queued calls.
  void DeliverEvents();
  // Clears delivering_ and wakes a FinishDeregister() waiting for it.
  void EndDeliveringLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A listener call threw: deregister, and tell the listener (its last call).
  void EndAfterListenerError(const absl::Status& status);
  // The end of FinishDeregister(): the calls not yet made, then
  // kDeregistered with `result`, on this thread (or, from the listener's own
  // call, once it returns).
  void DeliverLast(const absl::Status& result) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<RegistrarShared> shared_;
  RegistrationListener* const listener_;
  // Null handles when metrics are off.
  const RegistrationMetrics metrics_;

  // Serializes Update() calls, so their writes reach etcd in call order.
  Mutex update_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kStarting;
  // The key of the current (or last) lease.
  std::string key_ ABSL_GUARDED_BY(mu_);
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
  // Notified when attempt_in_flight_ becomes false.
  CondVar attempt_ended_;
  // Revoking the lease of an attempt that completed after Deregister began:
  // not OK when etcd did not confirm it.
  absl::Status attempt_cleanup_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;  // failed attempts since the loss
  // Watch re-establishments in a row for the current generation, and when
  // the last watch ended (MonoNow(); the count starts again after a quiet
  // while).
  int rewatches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_watch_end_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_reason_ ABSL_GUARDED_BY(mu_);
  // Listener calls not yet made, and whether the runner is making one. Not
  // a SerialExecutor: Deregister() makes the calls still queued itself, on
  // its own thread, waiting only for a call in progress, never for the
  // runner (shared by the Registrar's registrations) to reach them.
  std::deque<RegistrationEvent> pending_ ABSL_GUARDED_BY(mu_);
  bool delivery_posted_ ABSL_GUARDED_BY(mu_) = false;
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  // Notified when delivering_ becomes false.
  CondVar delivery_ended_;
  // The thread making the listener call in progress.
  std::thread::id delivering_thread_ ABSL_GUARDED_BY(mu_);
  bool listener_done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcdgrpc::registry::internal
