// The heart of a Session: hears the kept lease's loss, remembers the first
// reason, and tells every subscriber once, outside its lock and in order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "common/serial_executor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/session.h"

namespace etcdgrpc::concurrency::internal {

struct LossSubscriber {
  SessionLossCallback callback;
  // Runs the one call, so that Cancel() can wait for it.
  ::etcdgrpc::internal::SerialExecutor executor;
};

class LossNotifier final : public LeaseListener {
 public:
  LossNotifier() = default;

  // Keeps `kept` until StopKeeping() (or the loss).
  void Adopt(KeptLease kept);
  // Stops the renewals; waits for a listener call of the lease in progress
  // (unless called from it).
  void StopKeeping();

  // The first failure wins; every subscriber hears it once. Later calls do
  // nothing.
  void Fail(const absl::Status& why);
  [[nodiscard]] absl::Status status() const;

  std::shared_ptr<LossSubscriber> Add(SessionLossCallback callback);
  void Remove(const std::shared_ptr<LossSubscriber>& subscriber);

  // LeaseListener (keep-alive stream, timer or a revoking thread).
  void OnLost(int64_t lease_id, const LeaseLoss& loss) override;

 private:
  mutable ::etcdgrpc::internal::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::map<LossSubscriber*, std::shared_ptr<LossSubscriber>> subscribers_ ABSL_GUARDED_BY(mu_);
  KeptLease kept_ ABSL_GUARDED_BY(mu_);
};

// "session lease <id> lost: <why>" (FAILED_PRECONDITION).
[[nodiscard]] absl::Status SessionLostError(int64_t lease_id, const std::string& why);

}  // namespace etcdgrpc::concurrency::internal
