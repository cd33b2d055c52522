// The registration state machine (the diagram is in registration_core.h):
// taking the key, losing it, keeping its watch going, Update().
#include "registry/internal/registration_core.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "etcdgrpc/errors.h"
#include "registry/internal/registration_util.h"
#include "registry/internal/session.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {
namespace {

// Old leases remembered per registration; one per loss, so a handful is
// plenty (they expire after their TTL anyway).
constexpr size_t kMaxOldLeases = 8;

}  // namespace

RegistrationCore::RegistrationCore(std::shared_ptr<RegistrarShared> shared,
                                   ServiceInstance instance, std::string key,
                                   RegistrationListener* listener)
    : shared_(std::move(shared)),
      listener_(listener),
      metrics_(RegistrationMetrics::For(shared_->options().metrics.get(), instance.service)) {
  MutexLock lock(&mu_);
  instance_ = std::move(instance);
  key_ = std::move(key);
}

std::string RegistrationCore::key() const {
  MutexLock lock(&mu_);
  return key_;
}

RegistrationCore::~RegistrationCore() {
  // Normally stopped by Deregister(); this covers a failed Start().
  std::shared_ptr<Session> session;
  {
    MutexLock lock(&mu_);
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

void RegistrationCore::Activate(int64_t lease_id, const std::string& key, int64_t ttl_seconds,
                                absl::Time granted_at, int64_t put_revision,
                                const ServiceInstance& instance, RegistrationState state) {
  uint64_t generation = 0;
  bool metadata_changed = false;
  bool post = false;
  bool closed = false;
  std::vector<int64_t> old_leases;
  {
    MutexLock lock(&mu_);
    closed = phase_ == Phase::kClosed;
    if (!closed) {
      EndAttemptLocked();
      generation = ++generation_;
      phase_ = Phase::kActive;
      lease_id_ = lease_id;
      key_ = key;
      granted_ttl_ = ttl_seconds;
      attempts_ = 0;
      rewatches_ = 0;
      last_reason_ = absl::OkStatus();
      instance_.registered_at = instance.registered_at;
      metadata_changed = instance_.metadata != instance.metadata;
      old_leases.swap(old_leases_);
      post = QueueEvent(state, absl::OkStatus(), lease_id, absl::Seconds(ttl_seconds));
      (state == RegistrationState::kRegistered ? metrics_.registrations : metrics_.reregistrations)
          .Increment();
      metrics_.registered.Add(1);
    }
  }
  if (closed) {
    // Deregistered while this attempt was in flight: revoking removes the
    // key; the attempt ends once etcd confirmed it.
    return AbandonAttempt(lease_id, absl::OkStatus());
  }
  if (post) PostDelivery();
  // The key is now ours: leases we held before no longer hold anything (when
  // the key names the lease, revoking them removes their keys).
  for (int64_t old : old_leases) RevokeInBackground(old);

  auto session = std::make_shared<Session>(weak_from_this(), generation, lease_id, key);
  absl::Status started =
      session->Start(shared_->client(), absl::Seconds(ttl_seconds), granted_at, put_revision + 1);
  bool installed = false;
  {
    MutexLock lock(&mu_);
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
  MutexLock update_lock(&update_mu_);
  ServiceInstance instance;
  int64_t lease_id;
  std::string key;
  {
    MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    instance = instance_;
    lease_id = lease_id_;
    key = key_;
  }
  absl::StatusOr<std::string> value = shared_->Encode(instance, key);
  if (!value.ok()) return;
  // Fire and forget: if the key is no longer ours the watch reports it.
  shared_->client().TxnAsync(GuardedPut(key, lease_id, *value, lease_id),
                             [](const absl::StatusOr<TxnResult>&) {});
}

absl::Status RegistrationCore::Update(std::map<std::string, std::string> metadata) {
  MutexLock update_lock(&update_mu_);
  ServiceInstance instance;
  std::string key;
  {
    MutexLock lock(&mu_);
    if (phase_ == Phase::kClosed) {
      return absl::FailedPreconditionError(
          absl::StrCat(Printable(key_), " was deregistered; nothing to update"));
    }
    instance = instance_;
    key = key_;
  }
  instance.metadata = std::move(metadata);
  absl::StatusOr<std::string> value = shared_->Encode(instance, key);
  if (!value.ok()) return value.status();
  int64_t lease_id = 0;
  uint64_t generation = 0;
  {
    MutexLock lock(&mu_);
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
    key = key_;
  }
  absl::StatusOr<TxnResult> result =
      shared_->client().Txn(GuardedPut(key, lease_id, *value, lease_id));
  if (!result.ok()) return WithContext(result.status(), absl::StrCat("updating ", Printable(key)));
  if (!result->succeeded) {
    const int64_t holder = HolderOf(*result);
    absl::Status lost = absl::FailedPreconditionError(absl::StrCat(
        Printable(key), " is no longer held by our lease ", FormatLeaseId(lease_id),
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
    MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    const absl::Time now = ::etcdgrpc::internal::MonoNow();
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
    MutexLock lock(&mu_);
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
    MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;  // stale
    phase_ = Phase::kLost;
    metrics_.losses.Increment();
    metrics_.registered.Add(-1);
    session = std::move(session_);
    RememberOldLease(lease_id_);
    lease_id_ = 0;
    attempts_ = 0;
    // With the client closed nothing can be registered again: the loss is
    // final (until Deregister), and says so.
    retry = !shared_->client_closed();
    if (!retry) reason = ClientClosedStatus();
    last_reason_ = reason;
    post = QueueEvent(RegistrationState::kLost, reason, 0, absl::ZeroDuration());
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
  std::string key;
  {
    MutexLock lock(&mu_);
    if (phase_ != Phase::kActive || generation_ != generation) return;
    lease_id = lease_id_;
    key = key_;
  }
  if (shared_->client_closed()) return;
  // The watch could not resume (its revision was compacted): read the key
  // to learn whether it is still ours.
  shared_->client().GetAsync(
      key, GetOptions{},
      [self = shared_from_this(), generation, lease_id, key,
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
                absl::StrCat(Printable(key),
                             get->kvs.empty() ? " is gone" : " is held by another lease",
                             " after its watch ended (", status.message(), ")")));
      });
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
  shared_->client().RevokeAsync(lease_id, [](const absl::StatusOr<ResponseHeader>&) {});
}

RegistrationState RegistrationCore::state() const {
  MutexLock lock(&mu_);
  return state_;
}

int64_t RegistrationCore::lease_id() const {
  MutexLock lock(&mu_);
  return lease_id_;
}

absl::Duration RegistrationCore::ttl() const {
  MutexLock lock(&mu_);
  return absl::Seconds(granted_ttl_);
}

ServiceInstance RegistrationCore::instance() const {
  MutexLock lock(&mu_);
  return instance_;
}

}  // namespace etcdgrpc::registry::internal
