// Listeners that record what a watch or a kept lease hears, with bounded waits, for the
// integration tests (one copy instead of a recorder per test file). Thread-safe: the client
// calls them on its threads while the test reads them.
#ifndef ETCDGRPC_TESTS_SUPPORT_RECORDERS_H_
#define ETCDGRPC_TESTS_SUPPORT_RECORDERS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/watch.h"

namespace etcdgrpc::testing {

// Everything one watch hears: its events in delivery order, progress notifications, ends.
// Not final: a test may override OnEvents (calling this one) to block or throw.
class WatchRecorder : public WatchListener {
 public:
  void OnEvents(const WatchEvents& batch) override;
  void OnProgress(int64_t revision) override;
  void OnEnd(const WatchEnd& end) override;

  // Until `n` events in all have arrived.
  bool WaitForEvents(size_t n, absl::Duration timeout = absl::Seconds(10));
  // Until an event at `revision` or later has arrived.
  bool WaitForEventAt(int64_t revision, absl::Duration timeout = absl::Seconds(10));
  bool WaitForProgress(absl::Duration timeout = absl::Seconds(10));
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(10));

  std::vector<Event> events();
  // Of each event: its key, its value, its mod_revision.
  std::vector<std::string> keys();
  std::vector<std::string> values();
  std::vector<int64_t> revisions();
  // How many OnEvents calls.
  int batches();
  std::vector<int64_t> progress();
  std::vector<WatchEnd> ends();
  bool ended();
  // The status of the last end; OK while none came.
  absl::Status end_status();

 private:
  template <class Pred>
  bool Await(Pred pred, absl::Duration timeout);

  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> progress_ ABSL_GUARDED_BY(mu_);
  std::vector<WatchEnd> ends_ ABSL_GUARDED_BY(mu_);
};

// What a kept lease's listener hears: how many renewals, and each loss.
class LeaseRecorder : public LeaseListener {
 public:
  void OnRenewed(int64_t lease_id, int64_t ttl) override;
  void OnLost(int64_t lease_id, const LeaseLoss& loss) override;

  // Until `n` renewals in all were heard.
  bool WaitForRenewals(int n, absl::Duration timeout);
  // Until a loss was heard.
  bool WaitForLoss(absl::Duration timeout);

  int renewals();
  std::vector<LeaseLoss> losses();

 private:
  template <class Pred>
  bool Await(Pred pred, absl::Duration timeout);

  absl::Mutex mu_;
  int renewals_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<LeaseLoss> losses_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_RECORDERS_H_
