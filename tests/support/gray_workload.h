// A client under load for fault tests, benchmarks and the chaos soak: kept
// leases, watches on a prefix a separate writer writes to, registrations and a
// resolver view, and a prober making unary calls, each recording what it saw so
// that Check() can tell whether anything was lost, delivered twice, out of
// order, late, or past its deadline. Deliberately free of GoogleTest.
#ifndef ETCDGRPC_TESTS_SUPPORT_GRAY_WORKLOAD_H_
#define ETCDGRPC_TESTS_SUPPORT_GRAY_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"

namespace etcdgrpc::testing {

struct GrayWorkloadOptions {
  // The client under test, and the separate writer's client (give it the
  // members that stay healthy, or all of them).
  ClientOptions client;
  ClientOptions writer;
  int leases = 2000;
  int64_t lease_ttl_seconds = 6;
  int watches = 3;
  int registrations = 5;
  bool resolver_view = true;
  // One put of "/gw/<n>" per interval.
  absl::Duration write_interval = absl::Milliseconds(50);
  // One Get per interval on the client under test.
  absl::Duration probe_interval = absl::Milliseconds(200);
  // A sample of the registry (through the writer) and of the resolver view.
  absl::Duration sample_interval = absl::Milliseconds(250);
  // Prefix of this workload's keys (several may share a cluster).
  std::string prefix = "/gw";
  // Threads and memory must stay bounded: at most this many threads and this
  // much RSS above what the process had once the workload was set up.
  int max_extra_threads = 24;
  double max_rss_growth_mb = 300;
  std::string service = "gray";
  // The members' own client endpoints (not through fault proxies): when set,
  // a monitor asks each for its leader every 200 ms, and while no majority
  // agrees on one (an election, say after a partitioned member returns with
  // a higher term) the workload counts a majority as unreachable: etcd can
  // neither renew nor revoke leases without a leader.
  std::vector<std::string> monitor_endpoints = {};
  // Whether a period with no leader a majority agrees on excuses the losses
  // after it. The gray-failure tests keep a majority with a leader by design
  // (pre-vote on): they watch the leaders for the timeline only.
  bool leaderless_excuses_losses = true;
  // Where the workload reports what its monitor sees (stderr when empty).
  std::function<void(const std::string&)> log = nullptr;
};

struct GrayReport {
  // Anything that must not happen, each with its time and detail.
  std::vector<std::string> violations;
  // Leases lost (excused or not) and replaced by new ones, renewals answered,
  // and leases kept at the end; registrations lost (they register again).
  int64_t leases_lost = 0;
  int64_t leases_replaced = 0;
  int64_t renewals = 0;
  int64_t leases_kept = 0;
  int64_t registrations_lost = 0;
  // Of the losses above, the leases and registrations etcd revoked in the
  // window after a frozen leader resumed (etcd #15247, StaleLeaderResumed()).
  int64_t leases_revoked_by_stale_leader = 0;
  int64_t registrations_revoked_by_stale_leader = 0;
  // Samples of the registry or the resolver view that found registrations
  // missing right after etcd revoked them that way (they register again).
  int64_t shortfalls_after_stale_revocation = 0;
  int64_t writes_acked = 0;
  int64_t writes_failed = 0;
  // Committed writes (read back from etcd) and, per watch, events delivered.
  int64_t writes_committed = 0;
  std::vector<int64_t> events_delivered;
  // From a write's acknowledgement to its delivery, over every watch.
  absl::Duration latency_p50 = absl::ZeroDuration();
  absl::Duration latency_p99 = absl::ZeroDuration();
  absl::Duration latency_max = absl::ZeroDuration();
  int64_t probes = 0;
  int64_t probes_failed = 0;
  absl::Duration probe_max = absl::ZeroDuration();
  int64_t threads = 0;
  double rss_mb = 0;
  std::string Summary() const;
};

class GrayWorkload {
 public:
  // Connects both clients, grants and keeps the leases, starts the watches,
  // registrations, view, writer, prober and samplers.
  static absl::StatusOr<std::unique_ptr<GrayWorkload>> Start(GrayWorkloadOptions options);
  ~GrayWorkload();

  Client& client() { return *client_; }
  Client& writer_client() { return *writer_client_; }

  // The harness made a majority unreachable (or reachable again). A
  // lease or registration lost within a TTL (plus slack) of such an outage is
  // excused, and the registry and view samples are only checked while a
  // majority is reachable and a grace time after an outage has passed (the
  // view must never be empty, outage or not).
  void SetOutage(bool outage);
  // The harness resumed a member it had frozen while it was the leader. etcd
  // before the fix of issue #15247 (PR #16822; 3.4.23 has the bug) may then
  // revoke every lease the stale leader's clock says expired: its revocations
  // are forwarded to the new leader and committed, although the client renewed
  // those leases there. The client cannot prevent that; it must report each
  // loss, and a lease or registration etcd revoked (NOT_FOUND, not a missed
  // deadline) within stale_leader_window() of the resume is counted apart.
  void StaleLeaderResumed();
  // How long after a resume the stale leader's revocations may still arrive.
  absl::Duration stale_leader_window() const;
  // Marks the start of a fault: FirstRenewalAfterMark() then tells when the
  // first lease renewal after it was answered.
  void Mark();
  std::optional<absl::Duration> FirstRenewalAfterMark() const;
  int64_t renewals() const { return renewals_.load(); }

  // Stops writing, waits up to `settle` for every committed write to reach
  // every watch, stops the samplers and reports. Call once.
  GrayReport Finish(absl::Duration settle);

 private:
  class LeaseLog;
  class EventLog;
  class StateLog;
  struct Write {
    std::string key;
    int64_t revision = 0;
    absl::Time acked;
  };

  explicit GrayWorkload(GrayWorkloadOptions options);
  absl::Status Setup();
  void WriterLoop();
  void ProbeLoop();
  void SampleLoop();
  void MonitorLoop();
  void UpdateReachable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client's streams and renewals as the monitor samples them: a line
  // for each change, printed when Finish() finds a violation.
  void SampleClient();
  void Timeline(std::string text);
  void Log(const std::string& text) const;
  void Violation(std::string text);
  struct Loss {
    std::string what;
    int64_t at_ns;
    bool lease;            // else a registration
    bool revoked_by_etcd;  // etcd said NOT_FOUND (not a deadline the client saw pass)
  };
  // A loss at `at` (steady ns) is excused by an outage shortly before it.
  bool Excused(int64_t at_ns) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "during an outage", "2.1s after an outage of 3.0s ended": for the log.
  std::string OutageBefore(int64_t at_ns) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A loss etcd caused by revoking after a stale leader resumed.
  bool RevokedByStaleLeader(const Loss& loss) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteLoss(std::string what, int64_t at_ns, bool revoked_by_etcd);
  // Registrations missing from the registry or the view: a violation, or
  // judged in Finish() when a stale leader may have revoked them.
  void Shortfall(std::string text);
  bool InStaleLeaderWindow(int64_t at_ns) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const GrayWorkloadOptions options_;
  const int64_t start_ns_;  // steady clock, when the workload was made
  std::unique_ptr<Client> client_;
  std::unique_ptr<Client> writer_client_;
  std::unique_ptr<LeaseLog> lease_log_;
  std::vector<KeptLease> kept_;  // set-up, then the sampler thread only
  std::vector<std::unique_ptr<EventLog>> event_logs_;
  std::vector<WatchHandle> watches_;
  std::unique_ptr<StateLog> state_log_;
  std::unique_ptr<registry::Registrar> registrar_;
  std::vector<registry::Registration> registrations_;
  std::unique_ptr<resolver::Resolver> resolver_;
  std::shared_ptr<resolver::ServiceView> view_;
  int64_t start_revision_ = 0;

  std::atomic<bool> stop_{false};
  std::atomic<bool> monitor_stop_{false};  // the monitor runs to the end of Finish()
  std::atomic<bool> majority_{true};
  std::vector<std::unique_ptr<Client>> monitors_;
  std::atomic<int64_t> renewals_{0};
  std::atomic<int64_t> mark_ns_{0};
  std::atomic<int64_t> first_renewal_ns_{0};
  std::thread writer_;
  std::thread prober_;
  std::thread sampler_;
  std::thread monitor_;
  // The monitor's last sample of the client (its thread only).
  struct ClientSample {
    std::string keepalive;
    std::string watch;
    uint64_t responses = 0;
    int64_t answered_ns = 0;  // when responses last grew
    bool silent = false;
  } client_sample_;

  mutable absl::Mutex mu_;
  std::vector<Write> acked_ ABSL_GUARDED_BY(mu_);
  int64_t failed_writes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  // Majority outages as [start, end) in steady ns (end 0 while it lasts).
  std::vector<std::pair<int64_t, int64_t>> outages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> timeline_ ABSL_GUARDED_BY(mu_);
  // Losses of leases and registrations, judged by Finish().
  std::vector<Loss> losses_ ABSL_GUARDED_BY(mu_);
  struct MissingSample {
    std::string what;
    int64_t at_ns;
  };
  std::vector<MissingSample> deferred_shortfalls_ ABSL_GUARDED_BY(mu_);
  // When frozen leaders resumed (steady ns).
  std::vector<int64_t> stale_leader_resumes_ ABSL_GUARDED_BY(mu_);
  int64_t leases_lost_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t leases_replaced_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t registrations_lost_ ABSL_GUARDED_BY(mu_) = 0;
  // Lost leases waiting to be replaced by new ones (the sampler grants them),
  // so that the keeper stays loaded after an outage.
  int64_t to_replace_ ABSL_GUARDED_BY(mu_) = 0;
  bool outage_ ABSL_GUARDED_BY(mu_) = false;
  bool leaderless_ ABSL_GUARDED_BY(mu_) = false;
  int64_t probes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t probes_failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration probe_max_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_GRAY_WORKLOAD_H_
