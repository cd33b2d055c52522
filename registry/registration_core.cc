#include "registry/internal/registration_core.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "registry/internal/session.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {
namespace {

// Old leases remembered per registration; one per loss, so a handful is
// plenty (they expire after their TTL anyway).
constexpr size_t kMaxOldLeases = 8;
// Txn retries within one attempt when the key changed hands between reading
// and writing (freed, or still held by one of our old leases).
constexpr int kMaxTxnTries = 3;

int64_t HolderOf(const TxnResult& result) {
  for (const OpResult& op : result.results) {
    if (const GetResult* get = op.get(); get != nullptr && !get->kvs.empty()) {
      return get->kvs.front().lease;
    }
  }
  return 0;
}

absl::Status HeldByAnother(const std::string& key, int64_t holder) {
  return absl::AlreadyExistsError(absl::StrCat(
      Printable(key), " is held by lease ", LeaseHex(holder),
      ": another live instance is registered with this id (RegisterOptions::replace takes "
      "it over)"));
}

absl::Status WithContext(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), absl::StrCat(ToAbsl(what), ": ", status.message()));
}

bool IsDeregisterTolerable(const absl::Status& status) {
  // The lease is already gone: nothing is left to delete.
  return status.ok() || status.code() == absl::StatusCode::kNotFound;
}

}  // namespace

RegistrationCore::RegistrationCore(std::shared_ptr<RegistrarShared> shared,
                                   ServiceInstance instance, std::string key,
                                   RegistrationListener* listener)
    : shared_(std::move(shared)), key_(std::move(key)), listener_(listener) {
  instance_ = std::move(instance);
}

RegistrationCore::~RegistrationCore() {
  // Normally stopped by Deregister(); this covers a failed Start().
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    session = std::move(session_);
  }
  if (session != nullptr) session->Stop();
}

TxnRequest RegistrationCore::GuardedPut(int64_t expected_holder, const std::string& value,
                                        int64_t lease_id) const {
  // An absent key compares as lease 0 in etcd, so "lease == 0" means "absent
  // or written without a lease": free to take.
  TxnRequest txn;
  txn.If(Compare::Lease(key_).Equal(expected_holder))
      .Then(Op::Put(key_, value, PutOptions{.lease = lease_id}))
      .Else(Op::Get(key_));
  return txn;
}

absl::Status RegistrationCore::Start(bool replace) {
  ServiceInstance instance;
  {
    absl::MutexLock lock(&mu_);
    instance = instance_;
  }
  instance.registered_at = absl::Now();
  absl::StatusOr<std::string> value = shared_->Encode(instance, key_);
  if (!value.ok()) return value.status();

  Client& client = shared_->client();
  absl::StatusOr<LeaseGrantResult> grant = client.Grant(shared_->ttl_seconds());
  if (!grant.ok()) return WithContext(grant.status(), "granting the registration lease");
  TxnRequest txn;
  if (replace) {
    txn.Then(Op::Put(key_, *value, PutOptions{.lease = grant->id}));
  } else {
    txn = GuardedPut(0, *value, grant->id);
  }
  absl::StatusOr<TxnResult> result = client.Txn(txn);
  absl::Status failure;
  if (!result.ok()) {
    // The Txn may or may not have been applied; revoking the lease removes
    // the key in either case.
    failure = WithContext(result.status(), absl::StrCat("writing ", Printable(key_)));
  } else if (!result->succeeded) {
    failure = HeldByAnother(key_, HolderOf(*result));
  }
  if (!failure.ok()) {
    (void)client.Revoke(grant->id);
    return failure;
  }
  Activate(grant->id, grant->ttl, result->header.revision, instance,
           RegistrationState::kRegistered);
  return absl::OkStatus();
}

void RegistrationCore::Activate(int64_t lease_id, int64_t ttl_seconds, int64_t put_revision,
                                const ServiceInstance& instance, RegistrationState state) {
  uint64_t generation = 0;
  bool closed = false;
  bool metadata_changed = false;
  std::vector<int64_t> old_leases;
  {
    absl::MutexLock lock(&mu_);
    attempt_in_flight_ = false;
    if (phase_ == Phase::kClosed) {
      closed = true;
    } else {
      generation = ++generation_;
      phase_ = Phase::kActive;
      lease_id_ = lease_id;
      granted_ttl_ = ttl_seconds;
      attempts_ = 0;
      last_reason_ = absl::OkStatus();
      instance_.registered_at = instance.registered_at;
      metadata_changed = instance_.metadata != instance.metadata;
      old_leases.swap(old_leases_);
      Notify(state, absl::OkStatus(), lease_id, absl::Seconds(ttl_seconds));
    }
  }
  if (closed) {
    // Deregistered while this attempt was in flight: revoking removes the key.
    RevokeInBackground(lease_id);
    return;
  }
  // The key is now ours: leases we held before no longer hold anything.
  for (int64_t old : old_leases) RevokeInBackground(old);

  auto session = std::make_shared<Session>(weak_from_this(), generation, lease_id, key_);
  absl::Status started =
      session->Start(shared_->client(), absl::Seconds(ttl_seconds), put_revision + 1);
  bool installed = false;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kActive && generation_ == generation) {
      session_ = session;
      installed = true;
    }
  }
  // Lost or deregistered meanwhile: whoever did it found no session to stop.
  if (!installed) session->Stop();
  if (installed && !started.ok()) SessionLost(generation, started);
  if (installed && metadata_changed) {
    shared_->scheduler().Post(
        [self = shared_from_this(), generation] { self->PushMetadata(generation); });
  }
}

void RegistrationCore::PushMetadata(uint64_t generation) {
  absl::MutexLock update_lock(&update_mu_);
  ServiceInstance instance;
  int64_t lease_id;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    instance = instance_;
    lease_id = lease_id_;
  }
  absl::StatusOr<std::string> value = shared_->Encode(instance, key_);
  if (!value.ok()) return;
  // Fire and forget: if the key is no longer ours the watch reports it.
  shared_->client().TxnAsync(GuardedPut(lease_id, *value, lease_id),
                             [](absl::StatusOr<TxnResult>) {});
}

absl::Status RegistrationCore::Update(std::map<std::string, std::string> metadata) {
  absl::MutexLock update_lock(&update_mu_);
  ServiceInstance instance;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) {
      return absl::FailedPreconditionError(
          absl::StrCat(Printable(key_), " was deregistered; nothing to update"));
    }
    instance = instance_;
  }
  instance.metadata = std::move(metadata);
  absl::StatusOr<std::string> value = shared_->Encode(instance, key_);
  if (!value.ok()) return value.status();
  int64_t lease_id = 0;
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) {
      return absl::FailedPreconditionError(
          absl::StrCat(Printable(key_), " was deregistered; nothing to update"));
    }
    instance_.metadata = instance.metadata;
    if (phase_ != Phase::kActive) {
      return absl::FailedPreconditionError(
          absl::StrCat(Printable(key_), " is not registered right now (", last_reason_.message(),
                       "); the new metadata is written when it is registered again"));
    }
    lease_id = lease_id_;
    generation = generation_;
  }
  absl::StatusOr<TxnResult> result = shared_->client().Txn(GuardedPut(lease_id, *value, lease_id));
  if (!result.ok()) return WithContext(result.status(), absl::StrCat("updating ", Printable(key_)));
  if (!result->succeeded) {
    const int64_t holder = HolderOf(*result);
    absl::Status lost = absl::FailedPreconditionError(
        absl::StrCat(Printable(key_), " is no longer held by our lease ", LeaseHex(lease_id),
                     holder == 0 ? " (deleted)" : absl::StrCat(" but by lease ", LeaseHex(holder)),
                     "; registering it again"));
    SessionLost(generation, lost);
    return lost;
  }
  return absl::OkStatus();
}

void RegistrationCore::SessionLost(uint64_t generation, absl::Status reason) {
  shared_->scheduler().Post([self = shared_from_this(), generation, reason = std::move(reason)] {
    self->HandleLoss(generation, reason);
  });
}

void RegistrationCore::SessionWatchEnded(uint64_t generation, absl::Status status) {
  shared_->scheduler().Post([self = shared_from_this(), generation, status = std::move(status)] {
    self->CheckAfterWatchEnd(generation, status);
  });
}

void RegistrationCore::HandleLoss(uint64_t generation, absl::Status reason) {
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;  // stale
    phase_ = Phase::kLost;
    session = std::move(session_);
    RememberOldLease(lease_id_);
    lease_id_ = 0;
    attempts_ = 0;
    last_reason_ = reason;
    Notify(RegistrationState::kLost, reason, 0, absl::ZeroDuration());
  }
  // The old lease is not revoked here: if etcd merely restarted, it may still
  // hold the key, and the next attempt moves the key straight to the new
  // lease (no gap a resolver would see); it is revoked once that succeeded.
  if (session != nullptr) session->Stop();
  StartAttempt();
}

void RegistrationCore::CheckAfterWatchEnd(uint64_t generation, absl::Status status) {
  int64_t lease_id;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    lease_id = lease_id_;
  }
  // The watch could not resume (its revision was compacted, or etcd
  // cancelled it): read the key to learn whether it is still ours.
  shared_->client().GetAsync(
      key_, GetOptions{},
      [self = shared_from_this(), generation, lease_id,
       status = std::move(status)](absl::StatusOr<GetResult> get) mutable {
        if (!get.ok()) {
          // Try again later; a lost lease is reported by the keep-alive.
          self->shared_->scheduler().PostAt(absl::Now() + self->shared_->RetryDelay(0),
                                            [self, generation, status = std::move(status)] {
                                              self->CheckAfterWatchEnd(generation, status);
                                            });
          return;
        }
        if (!get->kvs.empty() && get->kvs.front().lease == lease_id) {
          std::shared_ptr<Session> session;
          {
            absl::MutexLock lock(&self->mu_);
            if (self->generation_ == generation) session = self->session_;
          }
          if (session == nullptr) return;
          absl::Status rewatched =
              session->Rewatch(self->shared_->client(), get->header.revision + 1);
          if (rewatched.ok()) return;
          status = rewatched;
        }
        self->SessionLost(
            generation,
            absl::Status(
                get->kvs.empty() ? absl::StatusCode::kNotFound : absl::StatusCode::kAlreadyExists,
                absl::StrCat(Printable(self->key_),
                             get->kvs.empty() ? " is gone" : " is held by another lease",
                             " after its watch ended (", status.message(), ")")));
      });
}

void RegistrationCore::StartAttempt() {
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kLost || attempt_in_flight_) return;
    attempt_in_flight_ = true;
  }
  shared_->client().GrantAsync(shared_->ttl_seconds(), 0,
                               [self = shared_from_this()](absl::StatusOr<LeaseGrantResult> grant) {
                                 self->OnGranted(std::move(grant));
                               });
}

void RegistrationCore::OnGranted(absl::StatusOr<LeaseGrantResult> grant) {
  if (!grant.ok()) return FailAttempt(WithContext(grant.status(), "granting a new lease"));
  Attempt attempt;
  attempt.lease_id = grant->id;
  attempt.ttl_seconds = grant->ttl;
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    if (closed) attempt_in_flight_ = false;
    attempt.instance = instance_;
  }
  if (closed) return RevokeInBackground(attempt.lease_id);
  attempt.instance.registered_at = absl::Now();
  absl::StatusOr<std::string> value = shared_->Encode(attempt.instance, key_);
  if (!value.ok()) {
    RevokeInBackground(attempt.lease_id);
    return FailAttempt(value.status());
  }
  attempt.value = *std::move(value);
  TryTxn(std::move(attempt), 0, 1);
}

void RegistrationCore::TryTxn(Attempt attempt, int64_t expected_holder, int tries) {
  TxnRequest txn = GuardedPut(expected_holder, attempt.value, attempt.lease_id);
  shared_->client().TxnAsync(std::move(txn),
                             [self = shared_from_this(), attempt = std::move(attempt),
                              tries](absl::StatusOr<TxnResult> result) mutable {
                               self->OnAttemptTxn(std::move(attempt), tries, std::move(result));
                             });
}

void RegistrationCore::OnAttemptTxn(Attempt attempt, int tries, absl::StatusOr<TxnResult> result) {
  if (!result.ok()) {
    RevokeInBackground(attempt.lease_id);
    return FailAttempt(WithContext(result.status(), absl::StrCat("writing ", Printable(key_))));
  }
  if (result->succeeded) {
    return Activate(attempt.lease_id, attempt.ttl_seconds, result->header.revision,
                    attempt.instance, RegistrationState::kReregistered);
  }
  const int64_t holder = HolderOf(*result);
  bool ours;
  {
    absl::MutexLock lock(&mu_);
    ours = IsOldLease(holder);
  }
  if (tries < kMaxTxnTries && (holder == 0 || ours)) {
    // Freed meanwhile, or still held by a lease of ours that etcd revived:
    // take it over from exactly that holder.
    return TryTxn(std::move(attempt), holder, tries + 1);
  }
  RevokeInBackground(attempt.lease_id);
  FailAttempt(HeldByAnother(key_, holder));
}

void RegistrationCore::FailAttempt(absl::Status status) {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    attempt_in_flight_ = false;
    if (phase_ != Phase::kLost) return;
    delay = shared_->RetryDelay(attempts_++);
    if (status.code() != last_reason_.code())
      Notify(RegistrationState::kLost, status, 0, absl::ZeroDuration());
    last_reason_ = status;
  }
  shared_->scheduler().PostAt(absl::Now() + delay,
                              [self = shared_from_this()] { self->StartAttempt(); });
}

absl::Status RegistrationCore::Deregister() {
  std::shared_ptr<Session> session;
  int64_t lease_id = 0;
  std::vector<int64_t> old_leases;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) return absl::OkStatus();
    if (phase_ == Phase::kActive) lease_id = lease_id_;
    phase_ = Phase::kClosed;
    state_ = RegistrationState::kDeregistered;
    session = std::move(session_);
    lease_id_ = 0;
    old_leases.swap(old_leases_);
  }
  shared_->Forget(this);
  if (session != nullptr) session->Stop();
  // A lease lost locally may live on in etcd (it revives leases when it
  // restarts) and still hold the key.
  for (int64_t old : old_leases) RevokeInBackground(old);
  const absl::Time deadline = absl::Now() + shared_->request_timeout();
  {
    // An attempt in flight revokes what it granted when it completes (it
    // sees kClosed); wait for it so that nothing is written after we return.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](bool* in_flight) { return !*in_flight; }, &attempt_in_flight_),
                          deadline);
  }

  absl::Status result;
  if (lease_id != 0) {
    // Delete (if still ours) and revoke concurrently, one deadline for both:
    // either alone removes the key; revoking also ends the lease at once.
    struct Outcome {
      absl::Mutex mu;
      int remaining ABSL_GUARDED_BY(mu) = 2;
      absl::Status status ABSL_GUARDED_BY(mu);
    };
    auto outcome = std::make_shared<Outcome>();
    auto finish = [outcome](absl::Status status) {
      absl::MutexLock lock(&outcome->mu);
      if (!IsDeregisterTolerable(status) && outcome->status.ok()) outcome->status = status;
      --outcome->remaining;
    };
    TxnRequest txn;
    txn.If(Compare::Lease(key_).Equal(lease_id)).Then(Op::Delete(key_));
    shared_->client().TxnAsync(std::move(txn),
                               [finish](absl::StatusOr<TxnResult> r) { finish(r.status()); });
    shared_->client().RevokeAsync(
        lease_id, [finish](absl::StatusOr<ResponseHeader> r) { finish(r.status()); });
    absl::MutexLock lock(&outcome->mu);
    const bool done = outcome->mu.AwaitWithDeadline(
        absl::Condition(
            +[](Outcome* o) ABSL_NO_THREAD_SAFETY_ANALYSIS { return o->remaining == 0; },
            outcome.get()),
        deadline);
    result = done ? outcome->status
                  : absl::DeadlineExceededError(
                        absl::StrCat("deregistering ", Printable(key_), " did not finish within ",
                                     absl::FormatDuration(shared_->request_timeout()), "; lease ",
                                     LeaseHex(lease_id), " expires after its TTL"));
  }

  if (listener_ != nullptr) {
    RegistrationEvent event{.state = RegistrationState::kDeregistered, .reason = result};
    // Calls not yet made (say, kRegistered of a registration deregistered at
    // once) are still made, in order, before kDeregistered.
    std::deque<RegistrationEvent> to_deliver;
    {
      absl::MutexLock lock(&mu_);
      if (delivering_ && shared_->scheduler().InThread()) {
        // Called from this registration's own listener call: deliver after
        // it returns, never inside it.
        pending_.push_back(event);
      } else {
        mu_.Await(absl::Condition(
            +[](bool* delivering) { return !*delivering; }, &delivering_));
        // From here on the scheduler delivers nothing more (listener_done_),
        // so the calls below cannot overlap with one of its calls.
        to_deliver.swap(pending_);
        to_deliver.push_back(event);
        listener_done_ = true;
      }
    }
    for (const RegistrationEvent& e : to_deliver) listener_->OnStateChange(e);
  }
  return result;
}

void RegistrationCore::Notify(RegistrationState state, absl::Status reason, int64_t lease_id,
                              absl::Duration ttl) {
  state_ = state;
  if (listener_ == nullptr || listener_done_) return;
  pending_.push_back(RegistrationEvent{
      .state = state, .reason = std::move(reason), .lease_id = lease_id, .ttl = ttl});
  if (delivery_posted_ || delivering_) return;
  delivery_posted_ = true;
  shared_->scheduler().Post([self = shared_from_this()] { self->DeliverEvents(); });
}

void RegistrationCore::DeliverEvents() {
  while (true) {
    RegistrationEvent event;
    {
      absl::MutexLock lock(&mu_);
      delivery_posted_ = false;
      if (pending_.empty() || listener_done_) {
        delivering_ = false;
        return;
      }
      event = std::move(pending_.front());
      pending_.pop_front();
      delivering_ = true;
    }
    listener_->OnStateChange(event);
    if (event.state == RegistrationState::kDeregistered) {
      absl::MutexLock lock(&mu_);
      listener_done_ = true;
      delivering_ = false;
      return;
    }
  }
}

void RegistrationCore::RememberOldLease(int64_t lease_id) {
  if (lease_id == 0) return;
  if (old_leases_.size() == kMaxOldLeases) old_leases_.erase(old_leases_.begin());
  old_leases_.push_back(lease_id);
}

bool RegistrationCore::IsOldLease(int64_t lease_id) const {
  return lease_id != 0 &&
         std::find(old_leases_.begin(), old_leases_.end(), lease_id) != old_leases_.end();
}

void RegistrationCore::RevokeInBackground(int64_t lease_id) {
  shared_->client().RevokeAsync(lease_id, [](absl::StatusOr<ResponseHeader>) {});
}

RegistrationState RegistrationCore::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

int64_t RegistrationCore::lease_id() const {
  absl::MutexLock lock(&mu_);
  return lease_id_;
}

absl::Duration RegistrationCore::ttl() const {
  absl::MutexLock lock(&mu_);
  return absl::Seconds(granted_ttl_);
}

ServiceInstance RegistrationCore::instance() const {
  absl::MutexLock lock(&mu_);
  return instance_;
}

}  // namespace etcdgrpc::registry::internal
