// Deregistering: stopping, then the delete Txn and the revokes sent at once
// and waited for until one deadline, and the verdict on whether the key is gone.
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "registry/internal/registration_core.h"
#include "registry/internal/registration_util.h"
#include "registry/internal/session.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

// One deregistration in flight: the delete Txn and the revokes, answered on
// gRPC threads; outlives the registration's wait if etcd is slow.
struct RegistrationCore::Teardown {
  absl::Time deadline;
  // The lease holding the key (0 while lost) and the leases it held before.
  int64_t lease_id = 0;
  std::vector<int64_t> old_leases;
  // The key of lease_id (keys of old leases go with their revoke).
  std::string key;

  // Calls not answered yet: each answer is recorded under `mu`, then Done().
  ::etcdgrpc::internal::WaitGroup unanswered;
  Mutex mu;
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

absl::Status RegistrationCore::Deregister() {
  std::shared_ptr<Teardown> teardown =
      BeginDeregister(::etcdgrpc::internal::MonoNow() + shared_->request_timeout());
  if (teardown == nullptr) return absl::OkStatus();
  return FinishDeregister(teardown);
}

std::shared_ptr<RegistrationCore::Teardown> RegistrationCore::BeginDeregister(absl::Time deadline) {
  auto teardown = std::make_shared<Teardown>();
  teardown->deadline = deadline;
  std::shared_ptr<Session> session;
  {
    MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) return nullptr;
    if (phase_ == Phase::kActive) {
      teardown->lease_id = lease_id_;
      metrics_.registered.Add(-1);
    }
    teardown->key = key_;
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
  teardown->unanswered.Add(static_cast<int>(leases.size()) + (teardown->lease_id != 0 ? 1 : 0));
  if (teardown->lease_id != 0) {
    // Delete (if still ours) and revoke at once, one deadline for both:
    // either alone removes the key; revoking also ends the lease at once.
    TxnRequest txn;
    txn.If(Compare::Lease(teardown->key).Equal(teardown->lease_id))
        .Then(Op::Delete(teardown->key))
        .Else(Op::Get(teardown->key));
    client.TxnAsync(txn, [teardown](absl::StatusOr<TxnResult> result) {
      {
        MutexLock lock(&teardown->mu);
        if (!result.ok()) {
          teardown->Fail(result.status());
        } else {
          teardown->txn_answered = true;
          teardown->txn_holder = result->succeeded ? 0 : HolderOf(*result);
          teardown->txn_gone = result->succeeded || !teardown->Ours(teardown->txn_holder);
        }
      }
      teardown->unanswered.Done();
    });
  }
  // Leases lost locally may live on in etcd (it revives leases when it
  // restarts) and still hold the key: revoked too, and waited for.
  for (int64_t lease : leases) {
    client.RevokeAsync(lease, [teardown, lease](const absl::StatusOr<ResponseHeader>& revoked) {
      {
        MutexLock lock(&teardown->mu);
        teardown->revokes[lease] = revoked.status();
        if (!RevokeConfirmed(revoked.status())) teardown->Fail(revoked.status());
      }
      teardown->unanswered.Done();
    });
  }
  return teardown;
}

absl::Status RegistrationCore::FinishDeregister(const std::shared_ptr<Teardown>& teardown) {
  // Every call answered (the lease revoked too, when it can be), or the
  // deadline: then what was answered says whether the key is gone (say, the
  // Txn deleted it while the revoke is still on its way).
  const bool answered = teardown->unanswered.WaitUntil(teardown->deadline);
  bool gone;
  absl::Status error;
  {
    MutexLock lock(&teardown->mu);
    gone = teardown->Gone();
    error = teardown->first_error;
  }
  {
    // An attempt in flight revokes what it granted when it completes (it
    // sees kClosed); wait for it so that nothing is written after we return.
    MutexLock lock(&mu_);
    attempt_ended_.WaitUntil(mu_, teardown->deadline, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return !attempt_in_flight_;
    });
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
                          absl::StrCat("deregistering ", Printable(teardown->key),
                                       ": could not make sure the key is gone: ", error.message(),
                                       lease != 0 ? absl::StrCat("; lease ", FormatLeaseId(lease),
                                                                 " expires after its TTL")
                                                  : std::string()));
  }

  DeliverLast(result);
  return result;
}

}  // namespace etcdgrpc::registry::internal
