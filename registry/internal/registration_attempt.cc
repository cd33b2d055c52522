// Registering: the first registration (Start, on the caller's thread) and
// the re-registration attempts after a loss (Grant, guarded Txn, retries).
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "registry/internal/registration_core.h"
#include "registry/internal/registration_util.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {
namespace {

// Txn retries within one attempt when the key changed hands between reading
// and writing (freed, or still held by one of our old leases).
constexpr int kMaxTxnTries = 3;

absl::Status HeldByAnother(const std::string& key, int64_t holder) {
  return absl::AlreadyExistsError(absl::StrCat(Printable(key), " is held by lease ",
                                               FormatLeaseId(holder),
                                               ": another live instance is registered with this id "
                                               "(RegisterOptions::replace takes it over)"));
}

}  // namespace

TxnRequest RegistrationCore::GuardedPut(const std::string& key, int64_t expected_holder,
                                        const std::string& value, int64_t lease_id) {
  // An absent key compares as lease 0 in etcd, so "lease == 0" means "absent
  // or written without a lease": free to take.
  TxnRequest txn;
  txn.If(Compare::Lease(key).Equal(expected_holder))
      .Then(Op::Put(key, value, PutOptions{.lease = lease_id}))
      .Else(Op::Get(key));
  return txn;
}

void RegistrationCore::RemoveStaleRecords(const ServiceInstance& instance, const std::string& key,
                                          int64_t lease_id) {
  // A key that names the lease is new at every start, so the record a
  // killed instance left (its lease lives on until its TTL) is not taken
  // over by writing the same key: it is deleted, when it still is what was
  // read (same address, another lease, same revision).
  Client& client = shared_->client();
  absl::StatusOr<GetResult> listed = client.Range(
      KeyRange::Prefix(shared_->codec().ServicePrefix(shared_->prefix(), instance.service)));
  if (!listed.ok()) return;
  for (const KeyValue& kv : listed->kvs) {
    if (kv.key == key || kv.lease == lease_id ||
        !shared_->SameAddress(instance, kv.key, kv.value)) {
      continue;
    }
    TxnRequest txn;
    txn.If(Compare::ModRevision(kv.key).Equal(kv.mod_revision)).Then(Op::Delete(kv.key));
    (void)client.Txn(txn);
  }
}

absl::Status RegistrationCore::Start(bool replace) {
  ServiceInstance instance;
  {
    MutexLock lock(&mu_);
    instance = instance_;
  }
  instance.registered_at = absl::Now();
  absl::StatusOr<std::string> value = shared_->Encode(instance, shared_->LongestKey(instance));
  if (!value.ok()) return value.status();

  Client& client = shared_->client();
  absl::StatusOr<LeaseGrantResult> grant = client.Grant(shared_->ttl_seconds());
  if (!grant.ok()) return WithContext(grant.status(), "granting the registration lease");
  const std::string key = shared_->KeyFor(instance, grant->id);
  TxnRequest txn;
  if (replace) {
    txn.Then(Op::Put(key, *value, PutOptions{.lease = grant->id}));
  } else {
    txn = GuardedPut(key, 0, *value, grant->id);
  }
  absl::StatusOr<TxnResult> result = client.Txn(txn);
  // A key left by this same instance before it restarted (kill -9: its lease
  // lives on until its TTL) is ours to take over at once, as Kratos and
  // go-zero do; the compare on the holder's lease and mod revision makes
  // sure nothing written meanwhile is overwritten.
  for (int tries = 1; result.ok() && !result->succeeded && tries < kMaxTxnTries; ++tries) {
    const KeyValue* held = HolderKv(*result);
    if (held == nullptr) {
      txn = GuardedPut(key, 0, *value, grant->id);  // freed meanwhile
    } else if (shared_->SameAddress(instance, key, held->value)) {
      txn = TxnRequest();
      txn.If(Compare::Lease(key).Equal(held->lease))
          .If(Compare::ModRevision(key).Equal(held->mod_revision))
          .Then(Op::Put(key, *value, PutOptions{.lease = grant->id}))
          .Else(Op::Get(key));
    } else {
      break;
    }
    result = client.Txn(txn);
  }
  absl::Status failure;
  if (!result.ok()) {
    // The Txn may or may not have been applied; revoking the lease removes
    // the key in either case.
    failure = WithContext(result.status(), absl::StrCat("writing ", Printable(key)));
  } else if (!result->succeeded) {
    failure = HeldByAnother(key, HolderOf(*result));
  }
  if (!failure.ok()) {
    (void)client.Revoke(grant->id);
    return failure;
  }
  if (shared_->codec().key_uses_lease()) RemoveStaleRecords(instance, key, grant->id);
  Activate(grant->id, key, grant->ttl, grant->granted_at, result->header.revision, instance,
           RegistrationState::kRegistered);
  return absl::OkStatus();
}

void RegistrationCore::StartAttempt() {
  {
    MutexLock lock(&mu_);
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
    MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    attempt.instance = instance_;
  }
  if (closed) return AbandonAttempt(attempt.lease_id, absl::OkStatus());
  attempt.instance.registered_at = absl::Now();
  attempt.key = shared_->KeyFor(attempt.instance, attempt.lease_id);
  absl::StatusOr<std::string> value = shared_->Encode(attempt.instance, attempt.key);
  if (!value.ok()) return AbandonAttempt(attempt.lease_id, value.status());
  attempt.value = *std::move(value);
  TryTxn(std::move(attempt), 0, 1);
}

void RegistrationCore::TryTxn(Attempt attempt, int64_t expected_holder, int tries) {
  TxnRequest txn = GuardedPut(attempt.key, expected_holder, attempt.value, attempt.lease_id);
  shared_->client().TxnAsync(txn, [self = shared_from_this(), attempt = std::move(attempt),
                                   tries](absl::StatusOr<TxnResult> result) mutable {
    ReleaseInBody(self)->OnAttemptTxn(std::move(attempt), tries, std::move(result));
  });
}

void RegistrationCore::OnAttemptTxn(Attempt attempt, int tries, absl::StatusOr<TxnResult> result) {
  if (!result.ok()) {
    return AbandonAttempt(
        attempt.lease_id,
        WithContext(result.status(), absl::StrCat("writing ", Printable(attempt.key))));
  }
  if (result->succeeded) {
    return Activate(attempt.lease_id, attempt.key, attempt.ttl_seconds, attempt.granted_at,
                    result->header.revision, attempt.instance, RegistrationState::kReregistered);
  }
  const int64_t holder = HolderOf(*result);
  bool ours;
  {
    MutexLock lock(&mu_);
    ours = IsOldLease(holder);
  }
  if (tries < kMaxTxnTries && (holder == 0 || ours)) {
    // Freed meanwhile, or still held by a lease of ours that etcd revived:
    // take it over from exactly that holder.
    return TryTxn(std::move(attempt), holder, tries + 1);
  }
  // Held by someone else (another instance, or one that took it with
  // `replace`): not fought over, tried again after the backoff.
  AbandonAttempt(attempt.lease_id, HeldByAnother(attempt.key, holder));
}

void RegistrationCore::AbandonAttempt(int64_t lease_id, absl::Status failure) {
  bool closed;
  {
    MutexLock lock(&mu_);
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
  shared_->client().RevokeAsync(
      lease_id,
      [self = shared_from_this(), lease_id](const absl::StatusOr<ResponseHeader>& revoked) mutable {
        const std::shared_ptr<RegistrationCore> me = ReleaseInBody(self);
        MutexLock lock(&me->mu_);
        if (!RevokeConfirmed(revoked.status())) {
          me->attempt_cleanup_ =
              WithContext(revoked.status(), absl::StrCat("revoking lease ", FormatLeaseId(lease_id),
                                                         " of a registration attempt in flight"));
        }
        me->EndAttemptLocked();
      });
}

void RegistrationCore::FailAttempt(absl::Status status) {
  absl::Duration delay;
  bool post = false;
  bool retry;
  {
    MutexLock lock(&mu_);
    EndAttemptLocked();
    if (phase_ != Phase::kLost) return;
    retry = !shared_->client_closed();
    if (!retry) status = ClientClosedStatus();
    delay = shared_->RetryDelay(attempts_++);
    if (status.code() != last_reason_.code()) {
      post = QueueEvent(RegistrationState::kLost, status, 0, absl::ZeroDuration());
    }
    last_reason_ = status;
  }
  if (post) PostDelivery();
  if (!retry) return;
  shared_->scheduler().PostAfter(delay, [self = shared_from_this()] { self->StartAttempt(); });
}

void RegistrationCore::EndAttemptLocked() {
  attempt_in_flight_ = false;
  attempt_ended_.Notify();
}

}  // namespace etcdgrpc::registry::internal
