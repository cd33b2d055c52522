// The state behind a ServiceView: the decoded records of one service, kept
// current from a Range at revision R and a watch from R + 1 on the client's
// shared watch stream, re-listed (and diffed) after a compaction, watched
// again from the next revision (with backoff) after any other end of the
// watch, published as immutable snapshots. Nothing but etcd's answers ever
// changes the records: an outage leaves the last snapshot in place. Three
// files: following the service (view_core.cc), the records and their
// snapshots (view_records.cc), the subscribers' calls (view_subscribers.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/listener_runner.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "common/serial_executor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/endpoint.h"
#include "etcdgrpc/resolver/service_view.h"
#include "resolver/internal/snapshot_cell.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::CondVar;
using ::etcdgrpc::internal::ListenerRunner;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;
using ::etcdgrpc::internal::Scheduler;

// Mass-disappearance protection, resolved from ResolverOptions (see
// docs/balancing.md): when more than `share` of the published endpoints
// vanish in one update, the vanished ones stay in the published set until
// the set recovers (no more than `share` missing, counting live records
// under new keys as replacements) or `max_hold` passes.
struct HoldSettings {
  bool enabled = false;
  double share = 0.5;
  absl::Duration max_hold = absl::Minutes(1);
};

class ViewCore : public std::enable_shared_from_this<ViewCore> {
 public:
  // `scheduler` is used only until Stop() (the resolver stops its views
  // before stopping the scheduler); `runner` runs subscribers' calls.
  ViewCore(std::shared_ptr<Client> client, std::shared_ptr<const registry::Codec> codec,
           std::string prefix, std::string service, Scheduler* scheduler,
           std::shared_ptr<ListenerRunner> runner, HoldSettings hold = {},
           Gauge endpoints_gauge = {});
  ~ViewCore();

  // The first listing and the watch that follows it.
  [[nodiscard]] absl::Status Start();
  // Stops following the service (the watch, re-lists, re-watches); the last
  // snapshot stays. Each subscriber hears OnEnd(`why`) as its last call.
  void Stop(const absl::Status& why);

  const std::string& service() const { return service_; }
  [[nodiscard]] std::shared_ptr<const EndpointSet> snapshot() const;
  // `inline_calls`: the listener's calls are made on the thread that
  // produced them (the watch stream's), for the library's own listeners
  // that never block (balancers); otherwise on the runner.
  [[nodiscard]] std::shared_ptr<void> Subscribe(ServiceListener* listener,
                                                bool inline_calls = false);
  void Unsubscribe(const std::shared_ptr<void>& subscription);
  // Tells every subscriber about `problem` (OnProblem), in order with the
  // updates; the health checks' reports. Nothing after Stop().
  void ReportProblem(const absl::Status& problem);
  [[nodiscard]] absl::Status WaitForEndpoints(absl::Duration timeout) const;

  // For tests.
  [[nodiscard]] int relists() const;
  [[nodiscard]] int rewatches() const;

 private:
  struct Holder {
    std::shared_ptr<const EndpointSet> set;
  };
  struct Subscriber {
    Subscriber(ServiceListener* listener, bool inline_calls, std::weak_ptr<ViewCore> view)
        : listener(listener), inline_calls(inline_calls), view(std::move(view)) {}
    // Runs one call of the listener, in the executor; one that throws ends
    // the subscription (OnEnd with INTERNAL, its last call).
    template <class F>
    void Call(F&& f);
    // The last call: OnEnd(status); nothing is called afterwards.
    void End(const absl::Status& status);

    ServiceListener* const listener;
    const bool inline_calls;
    const std::weak_ptr<ViewCore> view;
    etcdgrpc::internal::SerialExecutor executor;
    // Only touched from the executor's calls (serialized).
    bool ended = false;
  };
  class WatchAdapter;

  // Decodes one record; on failure reports it (once per version) and
  // returns null.
  std::shared_ptr<const Endpoint> Decode(const KeyValue& kv, std::vector<absl::Status>& problems)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Subscribers whose queued calls the caller must run (Drain) after
  // releasing the lock: calls are queued under it, so every subscriber sees
  // updates in order, and run outside it.
  using ToDrain = std::vector<std::shared_ptr<Subscriber>>;
  // Publishes the records as a snapshot at `revision` and queues the news.
  [[nodiscard]] ToDrain PublishLocked(int64_t revision, const std::vector<absl::Status>& problems)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[nodiscard]] ToDrain QueueLocked(const std::shared_ptr<const EndpointSet>& set,
                                    const EndpointChanges& changes,
                                    const std::vector<absl::Status>& problems)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the queued calls: inline subscribers' here, the others' on the
  // runner.
  void Drain(const ToDrain& subscribers) const;
  void RemoveSubscriber(const Subscriber* subscriber);
  // Replaces the records with a listing (first start or re-list).
  [[nodiscard]] ToDrain ApplyListing(const GetResult& listing) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts watching from `from_revision`; the watch it replaces is returned,
  // to be cancelled after releasing the lock (cancelling waits for its
  // listener call in progress).
  [[nodiscard]] absl::StatusOr<WatchHandle> StartWatchLocked(int64_t from_revision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWatchEvents(uint64_t generation, const WatchEvents& batch);
  [[nodiscard]] ToDrain ApplyEvents(const WatchEvents& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWatchProgress(uint64_t generation, int64_t revision);
  void OnWatchEnd(uint64_t generation, const WatchEnd& end);
  // Mass-disappearance protection: adds to `set` (the records) the endpoints
  // kept while a hold lasts, starting or ending the hold; its warnings go to
  // `problems`.
  void ApplyHoldLocked(EndpointSet& set, std::vector<absl::Status>& problems)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The hold `hold_id` reached its max_hold.
  void HoldExpired(uint64_t hold_id);
  // Lists again (after a compaction) and resumes watching.
  void Relist(absl::Duration delay);
  // Watches again from the revision after the snapshot's (after the watch
  // ended otherwise), retrying with backoff.
  void Rewatch(uint64_t generation);
  // Delay before the next re-list or re-watch after `failures` in a row.
  static absl::Duration Backoff(int failures);
  // Why a view stops when the client was closed.
  absl::Status ClientClosed() const;

  const std::shared_ptr<Client> client_;
  const std::shared_ptr<const registry::Codec> codec_;
  const std::string prefix_;
  const std::string service_;
  const std::string service_prefix_;
  Scheduler* const scheduler_;
  const std::shared_ptr<ListenerRunner> runner_;
  SnapshotCell<Holder> cell_;

  mutable Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Records by key; kept in key order for snapshots.
  std::map<std::string, std::shared_ptr<const Endpoint>> records_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const EndpointSet> published_ ABSL_GUARDED_BY(mu_);
  // Notified whenever published_ changes (WaitForEndpoints waits on it).
  mutable CondVar published_changed_;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  // (key, mod_revision) of records already reported as unusable.
  std::set<std::pair<std::string, int64_t>> reported_ ABSL_GUARDED_BY(mu_);
  // Records skipped now, by key, with their report: a new subscriber hears
  // them too, as it would not otherwise learn why a record is missing.
  std::map<std::string, absl::Status> skipped_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Subscriber>> subscribers_ ABSL_GUARDED_BY(mu_);
  // Bumped for every new watch, so that calls from an ended one are ignored.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<WatchAdapter> adapter_ ABSL_GUARDED_BY(mu_);
  // Adapters of ended watches: one may still be inside a call (a re-list
  // starts from its OnEnd), so they live as long as the view.
  std::vector<std::unique_ptr<WatchAdapter>> retired_adapters_ ABSL_GUARDED_BY(mu_);
  WatchHandle watch_ ABSL_GUARDED_BY(mu_);
  int relists_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_relists_ ABSL_GUARDED_BY(mu_) = 0;
  // Watches that ended in a row without delivering anything (reset by
  // events and progress), and re-watches done (tests).
  int watch_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int rewatches_ ABSL_GUARDED_BY(mu_) = 0;
  const HoldSettings hold_;
  // The published snapshot's size (a null handle when metrics are off).
  const Gauge endpoints_gauge_;
  // While a hold lasts: the set published before the loss (the loss is
  // measured against it), when it began, and whether its time is up.
  std::shared_ptr<const EndpointSet> hold_base_ ABSL_GUARDED_BY(mu_);
  uint64_t hold_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_expired_ ABSL_GUARDED_BY(mu_) = false;
  // Why the view stopped (OK while it follows the service).
  absl::Status stopped_why_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::resolver::internal
