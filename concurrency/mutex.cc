#include "etcdgrpc/concurrency/mutex.h"

#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "concurrency/internal/claim.h"
#include "concurrency/internal/keys.h"
#include "concurrency/internal/write_outcome.h"

namespace etcdgrpc::concurrency {

using ::etcdgrpc::internal::MutexLock;

struct Mutex::Held {
  mutable ::etcdgrpc::internal::Mutex mu;
  std::unique_ptr<internal::Claim> claim ABSL_GUARDED_BY(mu);
  ResponseHeader header ABSL_GUARDED_BY(mu);
  // Unlock(), or a failed Lock() or TryLock(), could not delete this key: the
  // next Unlock() tries again (and the next Lock() takes it up or deletes it).
  std::string undeleted_key ABSL_GUARDED_BY(mu);
};

struct Mutex::Attempt {
  std::string key;
  // Our key's create revision: our place in the queue.
  int64_t revision = 0;
  ResponseHeader header;
  // The oldest key under the prefix: the holder.
  std::optional<KeyValue> holder;
};

Mutex::Mutex(std::shared_ptr<Session> session, std::string name, MutexOptions options)
    : session_(std::move(session)),
      name_(std::move(name)),
      prefix_(internal::PrefixOf(name_)),
      options_(std::move(options)),
      held_(std::make_unique<Held>()) {}

Mutex::~Mutex() {
  std::unique_ptr<internal::Claim> claim;
  {
    MutexLock lock(&held_->mu);
    claim = std::move(held_->claim);
  }
}

absl::StatusOr<Mutex::Attempt> Mutex::Enqueue() {
  if (absl::Status status = session_->status(); !status.ok()) return status;
  const int64_t lease = session_->lease_id();
  Attempt attempt;
  attempt.key = internal::KeyOf(prefix_, lease);
  // Go's Lock: put our key unless this session's key is there already, and
  // read the holder in the same transaction (the uncontended case is one call).
  TxnRequest txn;
  txn.If(Compare::CreateRevision(attempt.key).Equal(0))
      .Then(Op::Put(attempt.key, "", PutOptions{.lease = lease}))
      .Then(Op::Range(KeyRange::Prefix(prefix_), internal::OldestCreated()))
      .Else(Op::Get(attempt.key))
      .Else(Op::Range(KeyRange::Prefix(prefix_), internal::OldestCreated()));
  absl::StatusOr<TxnResult> result = session_->client().Txn(txn);
  if (!result.ok()) {
    if (absl::Status lost = internal::SessionErrorOf(*session_, result.status()); !lost.ok()) {
      return lost;
    }
    // The put may have been applied: leave no key behind.
    if (internal::MayHaveBeenApplied(result.status())) {
      return Withdraw(attempt.key, result.status());
    }
    return result.status();
  }
  const GetResult* own = result->results.size() == 2 ? result->results[0].get() : nullptr;
  const GetResult* oldest = result->results.size() == 2 ? result->results[1].get() : nullptr;
  if (oldest == nullptr || (!result->succeeded && (own == nullptr || own->kvs.empty()))) {
    return absl::InternalError("etcd answered the lock transaction with something else");
  }
  attempt.header = result->header;
  attempt.revision = result->succeeded ? result->header.revision : own->kvs[0].create_revision;
  if (!oldest->kvs.empty()) attempt.holder = oldest->kvs[0];
  return attempt;
}

absl::Status Mutex::Acquired(std::unique_ptr<internal::Claim> claim, const ResponseHeader& header) {
  internal::Claim* const stored = claim.get();
  std::unique_ptr<internal::Claim> old;
  {
    MutexLock lock(&held_->mu);
    old = std::exchange(held_->claim, std::move(claim));
    held_->header = header;
    held_->undeleted_key.clear();
  }
  old.reset();
  // Stored before it is held: an on_lost run by Hold (a loss already known)
  // finds the lock held and may unlock it or destroy this Mutex, so nothing
  // of `this` is touched after Hold. Lock does not answer OK for a lost lock.
  absl::Status acquired = status();
  if (options_.on_lost) stored->Hold(options_.on_lost);
  return acquired;
}

absl::Status Mutex::Withdraw(const std::string& key, const absl::Status& error) {
  // Go deletes the session's key on every failure, also a key this call found
  // there rather than wrote: a key left behind would queue this session for
  // a lock it is not waiting for.
  absl::StatusOr<DeleteResult> deleted = session_->client().Delete(key);
  if (deleted.ok()) return error;
  {
    MutexLock lock(&held_->mu);
    held_->undeleted_key = key;
  }
  return absl::Status(
      error.code(),
      absl::StrCat(error.message(), "; deleting ", internal::Printable(key),
                   " failed too (the next Unlock or Lock retries): ", deleted.status().message()));
}

absl::Status Mutex::Lock(const WaitOptions& options) {
  if (options.canceller != nullptr && options.canceller->cancelled()) {
    return absl::CancelledError("the wait was cancelled");
  }
  {
    MutexLock lock(&held_->mu);
    if (held_->claim != nullptr && held_->claim->lost().ok()) return absl::OkStatus();
  }
  absl::StatusOr<Attempt> attempt = Enqueue();
  if (!attempt.ok()) return attempt.status();
  absl::StatusOr<std::unique_ptr<internal::Claim>> claim = internal::Claim::Start(
      session_, attempt->key, attempt->revision, attempt->header.revision + 1);
  if (!claim.ok()) return Withdraw(attempt->key, claim.status());
  if (!attempt->holder.has_value() || attempt->holder->create_revision == attempt->revision) {
    return Acquired(*std::move(claim), attempt->header);
  }
  absl::StatusOr<ResponseHeader> waited = (*claim)->WaitForPredecessors(prefix_, options);
  if (!waited.ok()) {
    claim->reset();
    return Withdraw(attempt->key, waited.status());
  }
  return Acquired(*std::move(claim), *waited);
}

absl::Status Mutex::TryLock() {
  {
    MutexLock lock(&held_->mu);
    if (held_->claim != nullptr && held_->claim->lost().ok()) return absl::OkStatus();
  }
  absl::StatusOr<Attempt> attempt = Enqueue();
  if (!attempt.ok()) return attempt.status();
  if (attempt->holder.has_value() && attempt->holder->create_revision != attempt->revision) {
    return Withdraw(attempt->key, absl::AbortedError(absl::StrCat(
                                      "mutex: locked by another session (",
                                      internal::Printable(attempt->holder->key), " since revision ",
                                      attempt->holder->create_revision, ")")));
  }
  absl::StatusOr<std::unique_ptr<internal::Claim>> claim = internal::Claim::Start(
      session_, attempt->key, attempt->revision, attempt->header.revision + 1);
  if (!claim.ok()) return Withdraw(attempt->key, claim.status());
  return Acquired(*std::move(claim), attempt->header);
}

absl::Status Mutex::Unlock() {
  std::unique_ptr<internal::Claim> claim;
  std::string key;
  {
    MutexLock lock(&held_->mu);
    claim = std::move(held_->claim);
    key = claim != nullptr ? claim->key() : held_->undeleted_key;
  }
  if (key.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("mutex ", internal::Printable(name_), ": not locked"));
  }
  // Stopped first: our own delete is no loss to report.
  claim.reset();
  absl::StatusOr<DeleteResult> deleted = session_->client().Delete(key);
  MutexLock lock(&held_->mu);
  held_->undeleted_key = deleted.ok() ? "" : key;
  return deleted.status();
}

absl::Status Mutex::status() const {
  MutexLock lock(&held_->mu);
  if (held_->claim == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mutex ", internal::Printable(name_), ": not locked"));
  }
  absl::Status lost = held_->claim->lost();
  if (lost.ok()) return lost;
  return absl::FailedPreconditionError(
      absl::StrCat("lock ", internal::Printable(held_->claim->key()), " lost: ", lost.message()));
}

std::string Mutex::key() const {
  MutexLock lock(&held_->mu);
  return held_->claim != nullptr ? held_->claim->key() : "";
}

int64_t Mutex::revision() const {
  MutexLock lock(&held_->mu);
  return held_->claim != nullptr ? held_->claim->create_revision() : 0;
}

ResponseHeader Mutex::header() const {
  MutexLock lock(&held_->mu);
  return held_->header;
}

Compare Mutex::IsOwner() const {
  MutexLock lock(&held_->mu);
  if (held_->claim == nullptr) {
    // Go's "\x00" key and revision -1: never true.
    return Compare::CreateRevision(internal::KeyOf(prefix_, session_->lease_id())).Equal(-1);
  }
  return Compare::CreateRevision(held_->claim->key()).Equal(held_->claim->create_revision());
}

}  // namespace etcdgrpc::concurrency
