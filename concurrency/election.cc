#include "etcdgrpc/concurrency/election.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "concurrency/internal/claim.h"
#include "concurrency/internal/keys.h"
#include "concurrency/internal/observer.h"
#include "concurrency/internal/write_outcome.h"
#include "etcdgrpc/txn.h"

namespace etcdgrpc::concurrency {

using ::etcdgrpc::internal::MutexLock;

namespace {
// Go's ErrElectionNotLeader and ErrElectionNoLeader.
absl::Status NotLeader() { return absl::FailedPreconditionError("election: not leader"); }
absl::Status NoLeader() { return absl::NotFoundError("election: no leader"); }
}  // namespace

struct Election::Held {
  mutable ::etcdgrpc::internal::Mutex mu;
  std::unique_ptr<internal::Claim> claim ABSL_GUARDED_BY(mu);
  ResponseHeader header ABSL_GUARDED_BY(mu);
  // A Resign() or a failed Campaign() could not delete this key (created at
  // `undeleted_revision`; 0: unknown): the next Resign() tries again, the
  // next Campaign() takes it up.
  std::string undeleted_key ABSL_GUARDED_BY(mu);
  int64_t undeleted_revision ABSL_GUARDED_BY(mu) = 0;
};

ElectionObservation::ElectionObservation(std::shared_ptr<internal::Observer> observer)
    : observer_(std::move(observer)) {}
ElectionObservation::ElectionObservation(ElectionObservation&& other) noexcept
    : observer_(std::move(other.observer_)) {}
ElectionObservation& ElectionObservation::operator=(ElectionObservation&& other) noexcept {
  if (this != &other) {
    Cancel();
    observer_ = std::move(other.observer_);
  }
  return *this;
}
ElectionObservation::~ElectionObservation() { Cancel(); }
void ElectionObservation::Cancel() {
  if (observer_ == nullptr) return;
  observer_->Stop();
  observer_.reset();
}

Election::Election(std::shared_ptr<Session> session, std::string name, ElectionOptions options)
    : session_(std::move(session)),
      name_(std::move(name)),
      prefix_(internal::PrefixOf(name_)),
      options_(std::move(options)),
      held_(std::make_unique<Held>()) {}

Election::~Election() {
  std::unique_ptr<internal::Claim> claim;
  MutexLock lock(&held_->mu);
  claim = std::move(held_->claim);
}

absl::StatusOr<TxnResult> Election::DeleteKey(const std::string& key, int64_t revision) {
  TxnRequest txn;
  if (revision != 0) txn.If(Compare::CreateRevision(key).Equal(revision));
  txn.Then(Op::Delete(key));
  return session_->client().Txn(txn);
}

absl::Status Election::Withdraw(const std::string& key, int64_t revision,
                                const absl::Status& error) {
  absl::StatusOr<TxnResult> deleted = DeleteKey(key, revision);
  if (deleted.ok()) return error;
  {
    MutexLock lock(&held_->mu);
    held_->undeleted_key = key;
    held_->undeleted_revision = revision;
  }
  return absl::Status(error.code(),
                      absl::StrCat(error.message(), "; deleting ", internal::Printable(key),
                                   " failed too (the next Resign or Campaign retries): ",
                                   deleted.status().message()));
}

absl::Status Election::Campaign(const std::string& value, const WaitOptions& options) {
  if (options.canceller != nullptr && options.canceller->cancelled()) {
    return absl::CancelledError("the wait was cancelled");
  }
  if (absl::Status status = session_->status(); !status.ok()) return status;
  const int64_t lease = session_->lease_id();
  const std::string key = internal::KeyOf(prefix_, lease);
  Client& client = session_->client();
  TxnRequest txn;
  txn.If(Compare::CreateRevision(key).Equal(0))
      .Then(Op::Put(key, value, PutOptions{.lease = lease}))
      .Else(Op::Get(key));
  absl::StatusOr<TxnResult> result = client.Txn(txn);
  if (!result.ok()) {
    if (absl::Status lost = internal::SessionErrorOf(*session_, result.status()); !lost.ok()) {
      return lost;
    }
    if (!internal::MayHaveBeenApplied(result.status())) return result.status();
    // The put may have been applied: leave no key behind, unless the key is
    // the one this Election already leads with (Campaign while leading).
    bool leading = false;
    {
      MutexLock lock(&held_->mu);
      leading = held_->claim != nullptr && held_->claim->key() == key && held_->claim->lost().ok();
    }
    if (leading) return result.status();
    return Withdraw(key, 0, result.status());
  }
  int64_t revision = result->header.revision;
  if (!result->succeeded) {
    const GetResult* own = result->results.empty() ? nullptr : result->results[0].get();
    if (own == nullptr || own->kvs.empty()) {
      return absl::InternalError("etcd answered the campaign transaction with something else");
    }
    revision = own->kvs[0].create_revision;
    if (own->kvs[0].value != value) {
      // This session campaigned before with another value: Go proclaims it.
      TxnRequest proclaim;
      proclaim.If(Compare::CreateRevision(key).Equal(revision))
          .Then(Op::Put(key, value, PutOptions{.lease = lease}));
      absl::StatusOr<TxnResult> proclaimed = client.Txn(proclaim);
      if (!proclaimed.ok() || !proclaimed->succeeded) {
        return Withdraw(key, revision, proclaimed.ok() ? NotLeader() : proclaimed.status());
      }
    }
  }
  absl::StatusOr<std::unique_ptr<internal::Claim>> claim =
      internal::Claim::Start(session_, key, revision, result->header.revision + 1);
  if (!claim.ok()) return Withdraw(key, revision, claim.status());
  absl::StatusOr<ResponseHeader> waited = (*claim)->WaitForPredecessors(prefix_, options);
  if (!waited.ok()) {
    claim->reset();
    return Withdraw(key, revision, waited.status());
  }
  internal::Claim* const stored = claim->get();
  std::unique_ptr<internal::Claim> old;
  {
    MutexLock lock(&held_->mu);
    old = std::exchange(held_->claim, *std::move(claim));
    held_->header = result->header;
    held_->undeleted_key.clear();
    held_->undeleted_revision = 0;
  }
  old.reset();
  // Stored before it is held: an on_lost run by Hold (a loss already known)
  // finds the leadership held and may resign or destroy this Election, so
  // nothing of `this` is touched after Hold. No OK for leadership already lost.
  absl::Status won = status();
  if (options_.on_lost) stored->Hold(options_.on_lost);
  return won;
}

absl::Status Election::Proclaim(const std::string& value) {
  std::string key;
  int64_t revision = 0;
  {
    MutexLock lock(&held_->mu);
    if (held_->claim == nullptr) return NotLeader();
    key = held_->claim->key();
    revision = held_->claim->create_revision();
  }
  TxnRequest txn;
  txn.If(Compare::CreateRevision(key).Equal(revision))
      .Then(Op::Put(key, value, PutOptions{.lease = session_->lease_id()}));
  absl::StatusOr<TxnResult> result = session_->client().Txn(txn);
  if (!result.ok()) {
    if (absl::Status lost = internal::SessionErrorOf(*session_, result.status()); !lost.ok()) {
      return lost;
    }
    return result.status();
  }
  std::unique_ptr<internal::Claim> gone;
  MutexLock lock(&held_->mu);
  if (!result->succeeded) {
    gone = std::move(held_->claim);
    return NotLeader();
  }
  held_->header = result->header;
  return absl::OkStatus();
}

absl::Status Election::Resign() {
  std::unique_ptr<internal::Claim> claim;
  std::string key;
  int64_t revision = 0;
  {
    MutexLock lock(&held_->mu);
    claim = std::move(held_->claim);
    if (claim != nullptr) {
      key = claim->key();
      revision = claim->create_revision();
    } else {
      key = held_->undeleted_key;
      revision = held_->undeleted_revision;
    }
  }
  if (key.empty()) return absl::OkStatus();
  claim.reset();  // stopped first: our own delete is no loss to report
  absl::StatusOr<TxnResult> result = DeleteKey(key, revision);
  MutexLock lock(&held_->mu);
  if (!result.ok()) {
    // etcd may still list us as leader: the next Resign() tries again.
    held_->undeleted_key = key;
    held_->undeleted_revision = revision;
    return result.status();
  }
  held_->undeleted_key.clear();
  held_->undeleted_revision = 0;
  held_->header = result->header;
  return absl::OkStatus();
}

absl::StatusOr<LeaderInfo> Election::Leader() const {
  absl::StatusOr<GetResult> result =
      session_->client().Range(KeyRange::Prefix(prefix_), internal::OldestCreated());
  if (!result.ok()) return result.status();
  if (result->kvs.empty()) return NoLeader();
  return LeaderInfo{.header = result->header, .kv = result->kvs[0]};
}

absl::StatusOr<ElectionObservation> Election::Observe(ElectionListener* listener) const {
  if (listener == nullptr) return absl::InvalidArgumentError("Observe needs a listener");
  absl::StatusOr<std::shared_ptr<internal::Observer>> observer =
      internal::Observer::Start(session_, prefix_, listener);
  if (!observer.ok()) return observer.status();
  return ElectionObservation(*std::move(observer));
}

absl::Status Election::status() const {
  MutexLock lock(&held_->mu);
  if (held_->claim == nullptr) return NotLeader();
  absl::Status lost = held_->claim->lost();
  if (lost.ok()) return lost;
  return absl::FailedPreconditionError(absl::StrCat(
      "leadership of ", internal::Printable(held_->claim->key()), " lost: ", lost.message()));
}

std::string Election::key() const {
  MutexLock lock(&held_->mu);
  return held_->claim != nullptr ? held_->claim->key() : "";
}

int64_t Election::revision() const {
  MutexLock lock(&held_->mu);
  return held_->claim != nullptr ? held_->claim->create_revision() : 0;
}

ResponseHeader Election::header() const {
  MutexLock lock(&held_->mu);
  return held_->header;
}

}  // namespace etcdgrpc::concurrency
