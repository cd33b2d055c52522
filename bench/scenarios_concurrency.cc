// Concurrency scenarios, between processes: lock_handover (Unlock here → Lock
// acquired in a helper process) and election_failover (the leader's lease
// revoked → the new leader observed here, with two helper processes as
// candidates). See concurrency_helper.h for the helpers.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "concurrency_helper.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"
#include "report.h"
#include "scenario.h"

namespace etcdgrpc::bench {
namespace {

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

// Sees the keys under a prefix come and go (PUT adds, DELETE removes), from
// a revision at which there were none.
class KeySet final : public WatchListener {
 public:
  void OnEvents(const WatchEvents& batch) override {
    internal::MutexLock lock(&mu_);
    for (const Event& event : batch.events) {
      if (event.type == EventType::kPut) {
        keys_.insert(event.kv.key);
      } else {
        keys_.erase(event.kv.key);
      }
    }
    changed_.Notify();
  }
  // Waits until at least `count` keys exist.
  bool WaitForAtLeast(size_t count) {
    return WaitFor([&](size_t size) { return size >= count; });
  }
  // Waits until no key is left.
  bool WaitForNone() {
    return WaitFor([](size_t size) { return size == 0; });
  }

 private:
  bool WaitFor(const std::function<bool(size_t)>& done) {
    internal::MutexLock lock(&mu_);
    return changed_.WaitUntil(mu_, internal::MonoNow() + kStepTimeout,
                              [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return done(keys_.size()); });
  }
  internal::Mutex mu_;
  internal::CondVar changed_;
  std::set<std::string> keys_ ABSL_GUARDED_BY(mu_);
};

// Watches the (new, empty) prefix from the revision read now: no key put
// after it is missed, even one put before etcd created the watch.
absl::StatusOr<WatchHandle> WatchKeys(Client& client, const std::string& prefix, KeySet* keys) {
  absl::StatusOr<GetResult> now = client.Range(KeyRange::Prefix(prefix));
  if (!now.ok()) return now.status();
  return client.Watch(
      WatchRequest{.range = KeyRange::Prefix(prefix), .start_revision = now->header.revision + 1},
      keys);
}

absl::StatusOr<std::vector<ReportFigures>> LockHandover(const BenchEnv& env) {
  const std::string name = absl::StrCat("/bench/lock_handover/", absl::ToUnixNanos(absl::Now()));
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  absl::StatusOr<HelperProcess> helper =
      SpawnHelper(env.self_path, HelperPlan{env.endpoints, "lock", name});
  if (!helper.ok()) return helper.status();
  absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
      concurrency::Session::Create(**client);
  if (!session.ok()) return session.status();
  concurrency::Mutex mutex(*session, name);
  KeySet keys;
  absl::StatusOr<WatchHandle> watch = WatchKeys(**client, name + "/", &keys);
  if (!watch.ok()) return watch.status();

  const int64_t rounds = env.Scaled(500);
  const int64_t warmup = std::min<int64_t>(20, rounds);
  Measurement measurement(static_cast<size_t>(rounds));
  for (int64_t round = -warmup; round < rounds; ++round) {
    if (absl::Status s = mutex.Lock(); !s.ok()) return s;
    // The helper queues behind us; we release once its key is in.
    if (absl::Status s = helper->WriteLine("lock"); !s.ok()) return s;
    if (!keys.WaitForAtLeast(2)) return absl::DeadlineExceededError("the helper never queued");
    if (round == 0) measurement.Start();
    const absl::Time released = absl::Now();
    if (absl::Status s = mutex.Unlock(); !s.ok()) return s;
    absl::StatusOr<std::string> line = helper->ReadLine(kStepTimeout);
    if (!line.ok()) return line.status();
    int64_t acquired_us = 0;
    if (!absl::SimpleAtoi(*line, &acquired_us)) return absl::InternalError("bad helper line");
    if (round >= 0) measurement.AddLatency(absl::FromUnixMicros(acquired_us) - released);
    // Both keys gone before the next round (the helper unlocked at once), so
    // that the next round's count of two means the helper queued again.
    if (!keys.WaitForNone()) return absl::DeadlineExceededError("keys left behind");
  }
  measurement.Stop();
  watch->Cancel();
  (void)(*session)->Close();
  return std::vector<ReportFigures>{
      PrintReport(Report{.workload = "lock_handover", .ops = rounds, .extra = {{"processes", "2"}}},
                  measurement)};
}

// The leaders an observation heard.
class LeaderWatch final : public concurrency::ElectionListener {
 public:
  void OnLeader(const concurrency::LeaderInfo& leader) override {
    internal::MutexLock lock(&mu_);
    if (leader.kv.key != key_) {
      key_ = leader.kv.key;
      changed_at_ = absl::Now();
    }
    changed_.Notify();
  }
  // The leader's key, once it is not `other`.
  absl::StatusOr<std::string> WaitForLeaderOtherThan(const std::string& other, absl::Time* at) {
    internal::MutexLock lock(&mu_);
    if (!changed_.WaitUntil(
            mu_, internal::MonoNow() + kStepTimeout,
            [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !key_.empty() && key_ != other; })) {
      return absl::DeadlineExceededError("no new leader");
    }
    if (at != nullptr) *at = changed_at_;
    return key_;
  }

 private:
  internal::Mutex mu_;
  internal::CondVar changed_;
  std::string key_ ABSL_GUARDED_BY(mu_);
  absl::Time changed_at_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::vector<ReportFigures>> ElectionFailover(const BenchEnv& env) {
  const std::string name =
      absl::StrCat("/bench/election_failover/", absl::ToUnixNanos(absl::Now()));
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  std::vector<HelperProcess> candidates;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<HelperProcess> helper =
        SpawnHelper(env.self_path, HelperPlan{env.endpoints, "elect", name});
    if (!helper.ok()) return helper.status();
    candidates.push_back(*std::move(helper));
  }
  absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
      concurrency::Session::Create(**client);
  if (!session.ok()) return session.status();
  concurrency::Election election(*session, name);
  LeaderWatch leaders;
  KeySet keys;
  absl::StatusOr<WatchHandle> watch = WatchKeys(**client, name + "/", &keys);
  if (!watch.ok()) return watch.status();
  absl::StatusOr<concurrency::ElectionObservation> observation = election.Observe(&leaders);
  if (!observation.ok()) return observation.status();

  const int64_t rounds = env.Scaled(100);
  Measurement measurement(static_cast<size_t>(rounds));
  std::string leader;
  measurement.Start();
  for (int64_t round = 0; round < rounds; ++round) {
    absl::StatusOr<std::string> current = leaders.WaitForLeaderOtherThan(leader, nullptr);
    if (!current.ok()) return current.status();
    leader = *current;
    // Both candidates in: the leader and a standby waiting behind it.
    if (!keys.WaitForAtLeast(2)) return absl::DeadlineExceededError("no standby candidate");
    int64_t lease = 0;
    if (!absl::SimpleHexAtoi(leader.substr(leader.rfind('/') + 1), &lease)) {
      return absl::InternalError("a leader key without a lease id");
    }
    const absl::Time lost = absl::Now();
    if (absl::StatusOr<ResponseHeader> revoked = (*client)->Revoke(lease); !revoked.ok()) {
      return revoked.status();
    }
    absl::Time observed;
    absl::StatusOr<std::string> next = leaders.WaitForLeaderOtherThan(leader, &observed);
    if (!next.ok()) return next.status();
    measurement.AddLatency(observed - lost);
  }
  measurement.Stop();
  observation->Cancel();
  watch->Cancel();
  (void)(*session)->Close();
  const double p50_ms = measurement.PercentileUs(50) / 1000;
  const double p99_ms = measurement.PercentileUs(99) / 1000;
  return std::vector<ReportFigures>{
      PrintReport(Report{.workload = "election_failover",
                         .ops = rounds,
                         .extra = {{"p50_ms", absl::StrFormat("%.2f", p50_ms)},
                                   {"p99_ms", absl::StrFormat("%.2f", p99_ms)},
                                   {"fault", "lease_revoked"},
                                   {"processes", "3"}}},
                  measurement)};
}

}  // namespace

void RegisterConcurrencyScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"lock_handover",
                       "Unlock in this process -> Lock acquired in a helper process waiting "
                       "behind it (concurrency::Mutex); 500 hand-overs",
                       LockHandover});
  scenarios.push_back({"election_failover",
                       "leader's lease revoked -> new leader (a helper process) observed here "
                       "(concurrency::Election::Observe); 100 failovers",
                       ElectionFailover});
}

}  // namespace etcdgrpc::bench
