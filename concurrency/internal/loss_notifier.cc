#include "concurrency/internal/loss_notifier.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/lease_id.h"

namespace etcdgrpc::concurrency::internal {

using ::etcdgrpc::internal::MutexLock;

absl::Status SessionLostError(int64_t lease_id, const std::string& why) {
  return absl::FailedPreconditionError(
      absl::StrCat("session lease ", ::etcdgrpc::internal::FormatLeaseId(lease_id), " ", why));
}

void LossNotifier::Adopt(KeptLease kept) {
  KeptLease old;
  {
    MutexLock lock(&mu_);
    if (status_.ok()) {
      old = std::exchange(kept_, std::move(kept));
    } else {
      old = std::move(kept);  // lost meanwhile: stop it below
    }
  }
}

void LossNotifier::StopKeeping() {
  KeptLease kept;
  {
    MutexLock lock(&mu_);
    kept = std::move(kept_);
  }
  // Outside the lock: Stop() waits for a listener call (OnLost) in progress,
  // which takes it.
  kept.Stop();
}

void LossNotifier::Fail(const absl::Status& why) {
  std::vector<std::shared_ptr<LossSubscriber>> to_tell;
  {
    MutexLock lock(&mu_);
    if (!status_.ok()) return;
    status_ = why;
    for (auto& [key, subscriber] : subscribers_) to_tell.push_back(subscriber);
    subscribers_.clear();
  }
  for (const std::shared_ptr<LossSubscriber>& subscriber : to_tell) {
    subscriber->executor.Run([subscriber, why]() { subscriber->callback(why); });
  }
}

absl::Status LossNotifier::status() const {
  MutexLock lock(&mu_);
  return status_;
}

std::shared_ptr<LossSubscriber> LossNotifier::Add(SessionLossCallback callback) {
  auto subscriber = std::make_shared<LossSubscriber>();
  subscriber->callback = std::move(callback);
  absl::Status lost;
  {
    MutexLock lock(&mu_);
    if (status_.ok()) {
      subscribers_[subscriber.get()] = subscriber;
      return subscriber;
    }
    lost = status_;
  }
  subscriber->executor.Run([subscriber, lost]() { subscriber->callback(lost); });
  return subscriber;
}

void LossNotifier::Remove(const std::shared_ptr<LossSubscriber>& subscriber) {
  {
    MutexLock lock(&mu_);
    subscribers_.erase(subscriber.get());
  }
  subscriber->executor.Stop();
}

void LossNotifier::OnLost(int64_t lease_id, const LeaseLoss& loss) {
  Fail(SessionLostError(lease_id, absl::StrCat("lost: ", loss.status.message())));
}

}  // namespace etcdgrpc::concurrency::internal
