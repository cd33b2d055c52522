#include "etcdgrpc/concurrency/session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/lease_id.h"
#include "concurrency/internal/loss_notifier.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::concurrency {

namespace {
constexpr int64_t kDefaultTtlSeconds = 60;  // Go's defaultSessionTTL
}  // namespace

SessionSubscription::SessionSubscription(std::shared_ptr<internal::LossNotifier> notifier,
                                         std::shared_ptr<internal::LossSubscriber> subscriber)
    : notifier_(std::move(notifier)), subscriber_(std::move(subscriber)) {}

SessionSubscription::SessionSubscription(SessionSubscription&& other) noexcept
    : notifier_(std::move(other.notifier_)), subscriber_(std::move(other.subscriber_)) {}

SessionSubscription& SessionSubscription::operator=(SessionSubscription&& other) noexcept {
  if (this != &other) {
    Cancel();
    notifier_ = std::move(other.notifier_);
    subscriber_ = std::move(other.subscriber_);
  }
  return *this;
}

SessionSubscription::~SessionSubscription() { Cancel(); }

void SessionSubscription::Cancel() {
  if (subscriber_ == nullptr) return;
  notifier_->Remove(subscriber_);
  subscriber_.reset();
  notifier_.reset();
}

absl::StatusOr<std::shared_ptr<Session>> Session::Create(Client& client,
                                                         const SessionOptions& options) {
  std::shared_ptr<Client> shared = client.Share();
  int64_t id = options.lease_id;
  int64_t ttl = options.ttl_seconds > 0 ? options.ttl_seconds : kDefaultTtlSeconds;
  KeepOptions keep;
  if (id == 0) {
    absl::StatusOr<LeaseGrantResult> granted = shared->Grant(ttl);
    if (!granted.ok()) return granted.status();
    id = granted->id;
    ttl = granted->ttl;
    keep = KeepOptions{.ttl = absl::Seconds(granted->ttl), .granted_at = granted->granted_at};
  } else {
    // An existing lease: one renewal says whether etcd still has it, and its TTL.
    const absl::Time sent = absl::Now();
    absl::StatusOr<LeaseKeepAliveResult> renewed = shared->KeepAliveOnce(id);
    if (!renewed.ok()) return renewed.status();
    ttl = renewed->ttl;
    keep = KeepOptions{.ttl = absl::Seconds(renewed->ttl), .granted_at = sent};
  }
  auto notifier = std::make_shared<internal::LossNotifier>();
  absl::StatusOr<KeptLease> kept = shared->Keep(id, notifier.get(), keep);
  if (!kept.ok()) {
    if (options.lease_id == 0) (void)shared->Revoke(id);
    return kept.status();
  }
  notifier->Adopt(*std::move(kept));
  return std::make_shared<Session>(std::move(shared), id, ttl, std::move(notifier));
}

Session::Session(std::shared_ptr<Client> client, int64_t lease_id, int64_t ttl_seconds,
                 std::shared_ptr<internal::LossNotifier> notifier)
    : client_(std::move(client)),
      lease_id_(lease_id),
      ttl_seconds_(ttl_seconds),
      notifier_(std::move(notifier)) {}

Session::~Session() { notifier_->StopKeeping(); }

absl::Status Session::status() const { return notifier_->status(); }

SessionSubscription Session::OnLoss(SessionLossCallback callback) {
  return SessionSubscription(notifier_, notifier_->Add(std::move(callback)));
}

void Session::Orphan() {
  notifier_->StopKeeping();
  notifier_->Fail(internal::SessionLostError(lease_id_, "closed"));
}

absl::Status Session::Close() {
  Orphan();
  absl::StatusOr<ResponseHeader> revoked = client_->Revoke(lease_id_);
  // Already gone (expired, revoked elsewhere): nothing is left to delete.
  if (!revoked.ok() && !IsLeaseNotFound(revoked.status())) return revoked.status();
  return absl::OkStatus();
}

void Session::MarkLost(const absl::Status& etcd_error) {
  notifier_->Fail(
      internal::SessionLostError(lease_id_, absl::StrCat("lost: ", ServerMessage(etcd_error))));
}

}  // namespace etcdgrpc::concurrency
