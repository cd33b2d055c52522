#include "registry/internal/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/errors.h"
#include "registry/internal/registration_core.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

Session::Session(std::weak_ptr<RegistrationCore> owner, uint64_t generation, int64_t lease_id,
                 std::string key)
    : owner_(std::move(owner)),
      generation_(generation),
      lease_id_(lease_id),
      key_(std::move(key)) {}

absl::Status Session::Start(Client& client, absl::Duration ttl, absl::Time granted_at,
                            int64_t watch_from) {
  absl::StatusOr<KeptLease> kept =
      client.Keep(lease_id_, this, KeepOptions{.ttl = ttl, .granted_at = granted_at});
  if (!kept.ok()) return kept.status();
  absl::StatusOr<WatchHandle> watch =
      client.Watch(WatchRequest{.range = KeyRange::Key(key_), .start_revision = watch_from}, this);
  if (!watch.ok()) {
    kept->Stop();
    return watch.status();
  }
  MutexLock lock(&mu_);
  if (stopped_) {
    // Stop() ran meanwhile; the handles stop when they go out of scope
    // (after the lock is released).
    return absl::OkStatus();
  }
  kept_ = *std::move(kept);
  watch_ = *std::move(watch);
  watch_from_ = watch_from;
  return absl::OkStatus();
}

absl::Status Session::Rewatch(Client& client, int64_t from) {
  absl::StatusOr<WatchHandle> watch =
      client.Watch(WatchRequest{.range = KeyRange::Key(key_), .start_revision = from}, this);
  if (!watch.ok()) return watch.status();
  WatchHandle old;
  {
    MutexLock lock(&mu_);
    if (stopped_) return absl::OkStatus();  // `watch` cancels on return
    old = std::move(watch_);
    watch_ = *std::move(watch);
    watch_from_ = from;
  }
  return absl::OkStatus();  // `old` (already ended) is released here
}

int64_t Session::ResumeFrom(int64_t next_revision) const {
  MutexLock lock(&mu_);
  return std::max(next_revision, watch_from_);
}

void Session::Stop() {
  KeptLease kept;
  WatchHandle watch;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    kept = std::move(kept_);
    watch = std::move(watch_);
  }
  // Outside the lock: both wait for a listener call in progress, which may
  // be waiting for this lock.
  kept.Stop();
  watch.Cancel();
}

void Session::OnLost(int64_t lease_id, const LeaseLoss& loss) {
  auto owner = owner_.lock();
  if (owner == nullptr) return;
  owner->SessionLost(generation_,
                     absl::Status(loss.status.code(),
                                  absl::StrCat("lease ", FormatLeaseId(lease_id), " of ",
                                               Printable(key_), " lost: ", loss.status.message())));
}

void Session::OnEvents(const WatchEvents& batch) {
  for (const Event& event : batch.events) {
    absl::Status reason;
    if (event.type == EventType::kDelete) {
      reason = absl::NotFoundError(
          absl::StrCat(Printable(key_), " was deleted at revision ", event.kv.mod_revision));
    } else if (event.kv.lease != lease_id_) {
      reason = absl::AlreadyExistsError(absl::StrCat(
          Printable(key_), " was overwritten at revision ", event.kv.mod_revision,
          event.kv.lease == 0 ? " without a lease"
                              : absl::StrCat(" by lease ", FormatLeaseId(event.kv.lease))));
    } else {
      continue;  // our own Update()
    }
    if (auto owner = owner_.lock()) owner->SessionLost(generation_, std::move(reason));
    return;
  }
}

void Session::OnEnd(const WatchEnd& end) {
  {
    // Stopped: we cancelled it ourselves.
    MutexLock lock(&mu_);
    if (stopped_) return;
  }
  // The client is closing: the keep-alive reports it (kClientClosed).
  if (IsClientClosed(end.status)) return;
  // Anything else (compaction, etcd cancelling the watch, permissions, ...)
  // leaves the key unwatched: the owner checks it or watches it again.
  if (auto owner = owner_.lock()) owner->SessionWatchEnded(generation_, end);
}

}  // namespace etcdgrpc::registry::internal
