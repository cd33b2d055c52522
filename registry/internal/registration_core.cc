#include "registry/internal/registration_core.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/listener_call.h"
#include "etcdgrpc/errors.h"
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

// The key-value the Else(Get(key)) branch of a failed Txn read; null when
// the key is absent.
const KeyValue* HolderKv(const TxnResult& result) {
  for (const OpResult& op : result.results) {
    if (const GetResult* get = op.get(); get != nullptr && !get->kvs.empty()) {
      return &get->kvs.front();
    }
  }
  return nullptr;
}

int64_t HolderOf(const TxnResult& result) {
  const KeyValue* kv = HolderKv(result);
  return kv != nullptr ? kv->lease : 0;
}

absl::Status HeldByAnother(const std::string& key, int64_t holder) {
  return absl::AlreadyExistsError(absl::StrCat(Printable(key), " is held by lease ",
                                               FormatLeaseId(holder),
                                               ": another live instance is registered with this id "
                                               "(RegisterOptions::replace takes it over)"));
}

// Takes a callback's reference to its registration out of the callback, so
// that it dies before the callback returns. The client frees a call's state
// (the callback with its captures) on gRPC's callback thread only after
// letting ~Client go on, and a registration's last reference can hold the
// last one to the client's core and so to its channels: a grpc::Channel
// destroyed on one of gRPC 1.51's callback threads can delete the
// process-wide callback queue under that very thread, which then polls freed
// memory (SIGSEGV in grpc_completion_queue_next).
std::shared_ptr<RegistrationCore> ReleaseInBody(std::shared_ptr<RegistrationCore>& captured) {
  return std::move(captured);
}

absl::Status WithContext(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), absl::StrCat(ToAbsl(what), ": ", status.message()));
}

// Revoking answered this: the lease no longer holds anything.
bool RevokeConfirmed(const absl::Status& status) {
  return status.ok() || IsLeaseNotFound(status) || status.code() == absl::StatusCode::kNotFound;
}

}  // namespace

// One deregistration in flight: the delete Txn and the revokes, answered on
// gRPC threads; outlives the registration's wait if etcd is slow.
struct RegistrationCore::Teardown {
  absl::Time deadline;
  // The lease holding the key (0 while lost) and the leases it held before.
  int64_t lease_id = 0;
  std::vector<int64_t> old_leases;

  absl::Mutex mu;
  int remaining ABSL_GUARDED_BY(mu) = 0;
  // The delete Txn: answered, and then whether it left nothing of ours
  // (deleted, absent, or held by a lease that is not ours) or the holder.
  bool txn_answered ABSL_GUARDED_BY(mu) = false;
  bool txn_gone ABSL_GUARDED_BY(mu) = false;
  int64_t txn_holder ABSL_GUARDED_BY(mu) = 0;
  // Answers to the revokes, by lease.
  std::map<int64_t, absl::Status> revokes ABSL_GUARDED_BY(mu);
  // The first failure, for the error.
  absl::Status first_error ABSL_GUARDED_BY(mu);

  bool Ours(int64_t lease) const {
    return lease != 0 && (lease == lease_id || std::find(old_leases.begin(), old_leases.end(),
                                                         lease) != old_leases.end());
  }
  bool Confirmed(int64_t lease) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = revokes.find(lease);
    return it != revokes.end() && RevokeConfirmed(it->second);
  }
  // True when etcd said enough to know that no key of ours is left.
  bool Gone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (txn_answered && (txn_gone || Confirmed(txn_holder))) return true;
    if (lease_id != 0 && !Confirmed(lease_id)) return false;
    for (int64_t old : old_leases) {
      if (!Confirmed(old)) return false;
    }
    return true;
  }
  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (first_error.ok()) first_error = status;
  }
};

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

absl::Status RegistrationCore::ClientClosedStatus() const {
  return absl::CancelledError(
      absl::StrCat("the client was closed: ", Printable(key_),
                   " is no longer kept or registered again; a lease still holding it expires "
                   "after its TTL"));
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
  // A key left by this same instance before it restarted (kill -9: its lease
  // lives on until its TTL) is ours to take over at once, as Kratos and
  // go-zero do; the compare on the holder's lease and mod revision makes
  // sure nothing written meanwhile is overwritten.
  for (int tries = 1; result.ok() && !result->succeeded && tries < kMaxTxnTries; ++tries) {
    const KeyValue* held = HolderKv(*result);
    if (held == nullptr) {
      txn = GuardedPut(0, *value, grant->id);  // freed meanwhile
    } else if (shared_->SameAddress(instance, key_, held->value)) {
      txn = TxnRequest();
      txn.If(Compare::Lease(key_).Equal(held->lease))
          .If(Compare::ModRevision(key_).Equal(held->mod_revision))
          .Then(Op::Put(key_, *value, PutOptions{.lease = grant->id}))
          .Else(Op::Get(key_));
    } else {
      break;
    }
    result = client.Txn(txn);
  }
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
  Activate(grant->id, grant->ttl, grant->granted_at, result->header.revision, instance,
           RegistrationState::kRegistered);
  return absl::OkStatus();
}

void RegistrationCore::Activate(int64_t lease_id, int64_t ttl_seconds, absl::Time granted_at,
                                int64_t put_revision, const ServiceInstance& instance,
                                RegistrationState state) {
  uint64_t generation = 0;
  bool metadata_changed = false;
  bool post = false;
  bool closed = false;
  std::vector<int64_t> old_leases;
  {
    absl::MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    if (!closed) {
      attempt_in_flight_ = false;
      generation = ++generation_;
      phase_ = Phase::kActive;
      lease_id_ = lease_id;
      granted_ttl_ = ttl_seconds;
      attempts_ = 0;
      rewatches_ = 0;
      last_reason_ = absl::OkStatus();
      instance_.registered_at = instance.registered_at;
      metadata_changed = instance_.metadata != instance.metadata;
      old_leases.swap(old_leases_);
      post = Notify(state, absl::OkStatus(), lease_id, absl::Seconds(ttl_seconds));
    }
  }
  if (closed) {
    // Deregistered while this attempt was in flight: revoking removes the
    // key; the attempt ends once etcd confirmed it.
    return AbandonAttempt(lease_id, absl::OkStatus());
  }
  if (post) PostDelivery();
  // The key is now ours: leases we held before no longer hold anything.
  for (int64_t old : old_leases) RevokeInBackground(old);

  auto session = std::make_shared<Session>(weak_from_this(), generation, lease_id, key_);
  absl::Status started =
      session->Start(shared_->client(), absl::Seconds(ttl_seconds), granted_at, put_revision + 1);
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
    absl::Status lost = absl::FailedPreconditionError(absl::StrCat(
        Printable(key_), " is no longer held by our lease ", FormatLeaseId(lease_id),
        holder == 0 ? " (deleted)" : absl::StrCat(" but by lease ", FormatLeaseId(holder)),
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

void RegistrationCore::SessionWatchEnded(uint64_t generation, const WatchEnd& end) {
  if (IsCompacted(end.status)) {
    shared_->scheduler().Post([self = shared_from_this(), generation, status = end.status] {
      self->CheckAfterCompaction(generation, status);
    });
    return;
  }
  // Ended for another reason (etcd cancelled it, permissions, ...): nothing
  // was missed up to next_revision, so watch again from there, with backoff.
  absl::Duration delay;
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    const absl::Time now = absl::Now();
    // A watch that lived a while starts the backoff again.
    if (now - last_watch_end_ > 4 * shared_->options().retry_backoff.max) rewatches_ = 0;
    last_watch_end_ = now;
    delay = shared_->RetryDelay(rewatches_++);
    session = session_;
  }
  const int64_t from =
      session != nullptr ? session->ResumeFrom(end.next_revision) : end.next_revision;
  shared_->scheduler().PostAfter(
      delay, [self = shared_from_this(), generation, from] { self->Rewatch(generation, from); });
}

void RegistrationCore::Rewatch(uint64_t generation, int64_t from) {
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    session = session_;
  }
  if (session == nullptr || shared_->client_closed()) return;
  absl::Status rewatched = session->Rewatch(shared_->client(), from);
  if (rewatched.ok()) return;
  // Could not even start a watch: try again later, as if it had ended.
  SessionWatchEnded(generation, WatchEnd{.status = rewatched, .next_revision = from});
}

void RegistrationCore::HandleLoss(uint64_t generation, absl::Status reason) {
  std::shared_ptr<Session> session;
  bool post = false;
  bool retry = false;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;  // stale
    phase_ = Phase::kLost;
    session = std::move(session_);
    RememberOldLease(lease_id_);
    lease_id_ = 0;
    attempts_ = 0;
    // With the client closed nothing can be registered again: the loss is
    // final (until Deregister), and says so.
    retry = !shared_->client_closed();
    if (!retry) reason = ClientClosedStatus();
    last_reason_ = reason;
    post = Notify(RegistrationState::kLost, reason, 0, absl::ZeroDuration());
  }
  if (post) PostDelivery();
  // The old lease is not revoked here: if etcd merely restarted, it may still
  // hold the key, and the next attempt moves the key straight to the new
  // lease (no gap a resolver would see); it is revoked once that succeeded.
  if (session != nullptr) session->Stop();
  if (retry) StartAttempt();
}

void RegistrationCore::CheckAfterCompaction(uint64_t generation, absl::Status status) {
  int64_t lease_id;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    lease_id = lease_id_;
  }
  if (shared_->client_closed()) return;
  // The watch could not resume (its revision was compacted): read the key
  // to learn whether it is still ours.
  shared_->client().GetAsync(
      key_, GetOptions{},
      [self = shared_from_this(), generation, lease_id,
       status = std::move(status)](absl::StatusOr<GetResult> get) mutable {
        const std::shared_ptr<RegistrationCore> me = ReleaseInBody(self);
        if (!get.ok()) {
          // Try again later; a lost lease is reported by the keep-alive.
          me->shared_->scheduler().PostAfter(me->shared_->RetryDelay(0),
                                             [me, generation, status = std::move(status)] {
                                               me->CheckAfterCompaction(generation, status);
                                             });
          return;
        }
        if (!get->kvs.empty() && get->kvs.front().lease == lease_id) {
          me->Rewatch(generation, get->header.revision + 1);
          return;
        }
        me->SessionLost(
            generation,
            absl::Status(
                get->kvs.empty() ? absl::StatusCode::kNotFound : absl::StatusCode::kAlreadyExists,
                absl::StrCat(Printable(me->key_),
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
  shared_->client().GrantAsync(
      shared_->ttl_seconds(), 0,
      [self = shared_from_this()](absl::StatusOr<LeaseGrantResult> grant) mutable {
        ReleaseInBody(self)->OnGranted(std::move(grant));
      });
}

void RegistrationCore::OnGranted(absl::StatusOr<LeaseGrantResult> grant) {
  if (!grant.ok()) return FailAttempt(WithContext(grant.status(), "granting a new lease"));
  Attempt attempt;
  attempt.lease_id = grant->id;
  attempt.ttl_seconds = grant->ttl;
  attempt.granted_at = grant->granted_at;
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    attempt.instance = instance_;
  }
  if (closed) return AbandonAttempt(attempt.lease_id, absl::OkStatus());
  attempt.instance.registered_at = absl::Now();
  absl::StatusOr<std::string> value = shared_->Encode(attempt.instance, key_);
  if (!value.ok()) return AbandonAttempt(attempt.lease_id, value.status());
  attempt.value = *std::move(value);
  TryTxn(std::move(attempt), 0, 1);
}

void RegistrationCore::TryTxn(Attempt attempt, int64_t expected_holder, int tries) {
  TxnRequest txn = GuardedPut(expected_holder, attempt.value, attempt.lease_id);
  shared_->client().TxnAsync(
      std::move(txn), [self = shared_from_this(), attempt = std::move(attempt),
                       tries](absl::StatusOr<TxnResult> result) mutable {
        ReleaseInBody(self)->OnAttemptTxn(std::move(attempt), tries, std::move(result));
      });
}

void RegistrationCore::OnAttemptTxn(Attempt attempt, int tries, absl::StatusOr<TxnResult> result) {
  if (!result.ok()) {
    return AbandonAttempt(attempt.lease_id,
                          WithContext(result.status(), absl::StrCat("writing ", Printable(key_))));
  }
  if (result->succeeded) {
    return Activate(attempt.lease_id, attempt.ttl_seconds, attempt.granted_at,
                    result->header.revision, attempt.instance, RegistrationState::kReregistered);
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
  // Held by someone else (another instance, or one that took it with
  // `replace`): not fought over, tried again after the backoff.
  AbandonAttempt(attempt.lease_id, HeldByAnother(key_, holder));
}

void RegistrationCore::AbandonAttempt(int64_t lease_id, absl::Status failure) {
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    // A Txn that failed may still have been applied: the lease is treated
    // as one of ours (taken over from, revoked on Deregister) until it is
    // known gone.
    if (!closed) RememberOldLease(lease_id);
  }
  if (!closed) {
    RevokeInBackground(lease_id);
    return FailAttempt(std::move(failure));
  }
  shared_->client().RevokeAsync(lease_id, [self = shared_from_this(), lease_id](
                                              absl::StatusOr<ResponseHeader> revoked) mutable {
    const std::shared_ptr<RegistrationCore> me = ReleaseInBody(self);
    absl::MutexLock lock(&me->mu_);
    if (!RevokeConfirmed(revoked.status())) {
      me->attempt_cleanup_ =
          WithContext(revoked.status(), absl::StrCat("revoking lease ", FormatLeaseId(lease_id),
                                                     " of a registration attempt in flight"));
    }
    me->attempt_in_flight_ = false;
  });
}

void RegistrationCore::FailAttempt(absl::Status status) {
  absl::Duration delay;
  bool post = false;
  bool retry;
  {
    absl::MutexLock lock(&mu_);
    attempt_in_flight_ = false;
    if (phase_ != Phase::kLost) return;
    retry = !shared_->client_closed();
    if (!retry) status = ClientClosedStatus();
    delay = shared_->RetryDelay(attempts_++);
    if (status.code() != last_reason_.code()) {
      post = Notify(RegistrationState::kLost, status, 0, absl::ZeroDuration());
    }
    last_reason_ = status;
  }
  if (post) PostDelivery();
  if (!retry) return;
  shared_->scheduler().PostAfter(delay, [self = shared_from_this()] { self->StartAttempt(); });
}

absl::Status RegistrationCore::Deregister() {
  std::shared_ptr<Teardown> teardown = BeginDeregister(absl::Now() + shared_->request_timeout());
  if (teardown == nullptr) return absl::OkStatus();
  return FinishDeregister(teardown);
}

std::shared_ptr<RegistrationCore::Teardown> RegistrationCore::BeginDeregister(absl::Time deadline) {
  auto teardown = std::make_shared<Teardown>();
  teardown->deadline = deadline;
  std::shared_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) return nullptr;
    if (phase_ == Phase::kActive) teardown->lease_id = lease_id_;
    phase_ = Phase::kClosed;
    state_ = RegistrationState::kDeregistered;
    session = std::move(session_);
    lease_id_ = 0;
    teardown->old_leases.swap(old_leases_);
  }
  shared_->Forget(this);
  if (session != nullptr) session->Stop();

  Client& client = shared_->client();
  const std::vector<int64_t> leases = [&] {
    std::vector<int64_t> all = teardown->old_leases;
    if (teardown->lease_id != 0) all.push_back(teardown->lease_id);
    return all;
  }();
  {
    absl::MutexLock lock(&teardown->mu);
    teardown->remaining = static_cast<int>(leases.size()) + (teardown->lease_id != 0 ? 1 : 0);
  }
  if (teardown->lease_id != 0) {
    // Delete (if still ours) and revoke at once, one deadline for both:
    // either alone removes the key; revoking also ends the lease at once.
    TxnRequest txn;
    txn.If(Compare::Lease(key_).Equal(teardown->lease_id))
        .Then(Op::Delete(key_))
        .Else(Op::Get(key_));
    client.TxnAsync(std::move(txn), [teardown](absl::StatusOr<TxnResult> result) {
      absl::MutexLock lock(&teardown->mu);
      --teardown->remaining;
      if (!result.ok()) return teardown->Fail(result.status());
      teardown->txn_answered = true;
      teardown->txn_holder = result->succeeded ? 0 : HolderOf(*result);
      teardown->txn_gone = result->succeeded || !teardown->Ours(teardown->txn_holder);
    });
  }
  // Leases lost locally may live on in etcd (it revives leases when it
  // restarts) and still hold the key: revoked too, and waited for.
  for (int64_t lease : leases) {
    client.RevokeAsync(lease, [teardown, lease](absl::StatusOr<ResponseHeader> revoked) {
      absl::MutexLock lock(&teardown->mu);
      --teardown->remaining;
      teardown->revokes[lease] = revoked.status();
      if (!RevokeConfirmed(revoked.status())) teardown->Fail(revoked.status());
    });
  }
  return teardown;
}

absl::Status RegistrationCore::FinishDeregister(const std::shared_ptr<Teardown>& teardown) {
  bool gone;
  bool answered;
  absl::Status error;
  {
    absl::MutexLock lock(&teardown->mu);
    // Every call answered (the lease revoked too, when it can be), or the
    // deadline: then what was answered says whether the key is gone (say,
    // the Txn deleted it while the revoke is still on its way).
    teardown->mu.AwaitWithDeadline(
        absl::Condition(
            +[](Teardown* t) ABSL_NO_THREAD_SAFETY_ANALYSIS { return t->remaining == 0; },
            teardown.get()),
        teardown->deadline);
    gone = teardown->Gone();
    answered = teardown->remaining == 0;
    error = teardown->first_error;
  }
  {
    // An attempt in flight revokes what it granted when it completes (it
    // sees kClosed); wait for it so that nothing is written after we return.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](bool* in_flight) { return !*in_flight; }, &attempt_in_flight_),
                          teardown->deadline);
    if (attempt_in_flight_) {
      gone = false;
      if (error.ok()) {
        error = absl::DeadlineExceededError("a registration attempt was still in flight");
      }
    } else if (!attempt_cleanup_.ok()) {
      gone = false;
      if (error.ok()) error = attempt_cleanup_;
    }
  }

  absl::Status result;
  if (!gone) {
    if (shared_->client_closed()) {
      error = absl::CancelledError("the client was closed");
    } else if (error.ok() || !answered) {
      error = absl::DeadlineExceededError(absl::StrCat(
          "etcd did not answer within ", absl::FormatDuration(shared_->request_timeout()),
          error.ok() ? "" : absl::StrCat(" (", error.message(), ")")));
    }
    const int64_t lease = teardown->lease_id != 0        ? teardown->lease_id
                          : teardown->old_leases.empty() ? 0
                                                         : teardown->old_leases.back();
    result = absl::Status(error.code(),
                          absl::StrCat("deregistering ", Printable(key_),
                                       ": could not make sure the key is gone: ", error.message(),
                                       lease != 0 ? absl::StrCat("; lease ", FormatLeaseId(lease),
                                                                 " expires after its TTL")
                                                  : std::string()));
  }

  if (listener_ != nullptr) {
    RegistrationEvent event{.state = RegistrationState::kDeregistered, .reason = result};
    // Calls not yet made (say, kRegistered of a registration deregistered at
    // once) are still made, in order, before kDeregistered.
    std::deque<RegistrationEvent> to_deliver;
    {
      absl::MutexLock lock(&mu_);
      if (listener_done_) {
        // The listener already heard its last call (it threw).
      } else if (delivering_ && delivering_thread_ == std::this_thread::get_id()) {
        // Called from this registration's own listener call: deliver after
        // it returns, never inside it.
        pending_.push_back(event);
      } else {
        // Waits for a listener call in progress on another thread.
        mu_.Await(absl::Condition(
            +[](bool* delivering) { return !*delivering; }, &delivering_));
        // From here on the runner delivers nothing more (listener_done_),
        // so the calls below cannot overlap with one of its calls.
        if (!listener_done_) {
          to_deliver.swap(pending_);
          to_deliver.push_back(event);
          listener_done_ = true;
        }
      }
    }
    for (const RegistrationEvent& e : to_deliver) {
      // A listener that throws here has nothing more to hear.
      (void)etcdgrpc::internal::CallListener("registration listener",
                                             [&] { listener_->OnStateChange(e); });
    }
  }
  return result;
}

bool RegistrationCore::Notify(RegistrationState state, absl::Status reason, int64_t lease_id,
                              absl::Duration ttl) {
  state_ = state;
  if (listener_ == nullptr || listener_done_) return false;
  pending_.push_back(RegistrationEvent{
      .state = state, .reason = std::move(reason), .lease_id = lease_id, .ttl = ttl});
  if (delivery_posted_ || delivering_) return false;
  delivery_posted_ = true;
  return true;
}

void RegistrationCore::PostDelivery() {
  shared_->listeners().Post([self = shared_from_this()] { self->DeliverEvents(); });
}

void RegistrationCore::DeliverEvents() {
  while (true) {
    RegistrationEvent event;
    {
      absl::MutexLock lock(&mu_);
      delivery_posted_ = false;
      if (pending_.empty() || listener_done_) {
        delivering_ = false;
        delivering_thread_ = std::thread::id();
        return;
      }
      event = std::move(pending_.front());
      pending_.pop_front();
      delivering_ = true;
      delivering_thread_ = std::this_thread::get_id();
    }
    absl::Status threw = etcdgrpc::internal::CallListener("registration listener",
                                                          [&] { listener_->OnStateChange(event); });
    if (event.state == RegistrationState::kDeregistered) {
      absl::MutexLock lock(&mu_);
      listener_done_ = true;
      delivering_ = false;
      delivering_thread_ = std::thread::id();
      return;
    }
    if (!threw.ok()) return EndAfterListenerError(std::move(threw));
  }
}

void RegistrationCore::EndAfterListenerError(absl::Status status) {
  // Still "delivering" on this thread: a Deregister() elsewhere waits, and
  // the runner delivers nothing more for this registration.
  std::shared_ptr<Teardown> teardown = BeginDeregister(absl::Now() + shared_->request_timeout());
  if (teardown == nullptr) {
    // A Deregister() in progress on another thread waits for this call to
    // end, then tells the listener.
    absl::MutexLock lock(&mu_);
    delivering_ = false;
    delivering_thread_ = std::thread::id();
    return;
  }
  {
    // Its final call is made below, not by FinishDeregister; what was
    // queued after the call that threw is not delivered.
    absl::MutexLock lock(&mu_);
    listener_done_ = true;
    pending_.clear();
  }
  const absl::Status deregistered = FinishDeregister(teardown);
  {
    absl::MutexLock lock(&mu_);
    delivering_ = false;
    delivering_thread_ = std::thread::id();
  }
  const RegistrationEvent event{
      .state = RegistrationState::kDeregistered,
      .reason = absl::InternalError(absl::StrCat(
          status.message(), "; ", Printable(key_),
          deregistered.ok() ? " was deregistered"
                            : absl::StrCat(" was not deregistered: ", deregistered.message())))};
  (void)etcdgrpc::internal::CallListener("registration listener",
                                         [&] { listener_->OnStateChange(event); });
}

void RegistrationCore::RememberOldLease(int64_t lease_id) {
  if (lease_id == 0 || IsOldLease(lease_id)) return;
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
