// Locks and elections across processes on a 3-member cluster: worker
// processes (concurrency_worker) increment a counter with a non-atomic
// read-modify-write under the lock, and take turns as leader writing markers,
// while a member is killed (SIGKILL) and restarted and another is frozen
// (SIGSTOP/SIGCONT). The workers go on until the faults are over (a stop key),
// so the faults fall while they work on any machine. The count must equal the
// total of increments, and no two leaders' [start, end] revisions may overlap.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "registry_process.h"
#include "status_matchers.h"
#include "test_client.h"

#ifndef ETCDGRPC_CONCURRENCY_WORKER
#error "needs ETCDGRPC_CONCURRENCY_WORKER, the worker binary's path"
#endif

namespace etcdgrpc {
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::LocalEtcdOptions;

constexpr absl::Duration kWorkerBound = absl::Seconds(60);
constexpr char kStopKey[] = "/conc-proc/stop";

class ConcurrencyProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LocalEtcdOptions options;
    options.members = 3;
    absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(options);
    ASSERT_THAT(etcd, IsOk());
    etcd_ = etcd->release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    // Every member up again after the test before.
    ASSERT_THAT(etcd_->RestartAll(), IsOk());
    client_ = ::etcdgrpc::testing::ConnectTo(etcd_->ClientEndpoints());
    ASSERT_NE(client_, nullptr);
    ASSERT_THAT(Retried([&] { return client_->Delete(kStopKey).status(); }), IsOk());
  }

  // Right after a member restarts or resumes, etcd 3.4 (no pre-vote) may be
  // electing a leader and refuse a write; the test's own writes are
  // idempotent, so they are retried, bounded.
  static absl::Status Retried(const std::function<absl::Status()>& write) {
    absl::Status status = write();
    for (int attempt = 1; attempt < 50 && !status.ok(); ++attempt) {
      absl::SleepFor(absl::Milliseconds(200));
      status = write();
    }
    return status;
  }

  static std::vector<std::unique_ptr<ChildProcess>> StartWorkers(
      int count, const std::function<std::vector<std::string>(int)>& args) {
    std::vector<std::unique_ptr<ChildProcess>> workers;
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> argv = {ETCDGRPC_CONCURRENCY_WORKER};
      for (std::string& arg : args(i)) argv.push_back(std::move(arg));
      workers.push_back(std::make_unique<ChildProcess>(argv));
    }
    return workers;
  }
  // Tells the workers to stop, waits for them; the rounds they completed, in
  // total (-1 when one failed).
  int StopAndExpectAllSucceed(std::vector<std::unique_ptr<ChildProcess>>& workers) {
    EXPECT_THAT(Retried([&] { return client_->Put(kStopKey, "").status(); }), IsOk());
    const absl::Time deadline = absl::Now() + kWorkerBound;
    int total = 0;
    for (auto& worker : workers) {
      std::optional<int> code =
          worker->Wait(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      if (!code.has_value()) {
        ADD_FAILURE() << "a worker did not finish in time: " << worker->err();
        return -1;
      }
      EXPECT_EQ(*code, 0) << worker->err();
      int done = 0;
      if (*code != 0 ||
          !absl::SimpleAtoi(absl::StripPrefix(absl::StripAsciiWhitespace(worker->out()), "done "),
                            &done)) {
        ADD_FAILURE() << "a worker's output: " << worker->out() << worker->err();
        return -1;
      }
      total += done;
    }
    return total;
  }

  // The faults happened while the workers worked.
  static void ExpectStillRunning(std::vector<std::unique_ptr<ChildProcess>>& workers) {
    int running = 0;
    for (auto& worker : workers) running += worker->Wait(absl::ZeroDuration()) ? 0 : 1;
    EXPECT_GT(running, 0) << "the workers were done before the faults ended";
  }

  // Kills the leader, restarts it, then freezes a follower for 1.5 s, while
  // the workers run.
  static void Faults() {
    absl::SleepFor(absl::Milliseconds(300));
    absl::StatusOr<int> leader = etcd_->Leader();
    ASSERT_THAT(leader, IsOk());
    ASSERT_THAT(etcd_->Kill(*leader), IsOk());
    absl::SleepFor(absl::Seconds(1));
    ASSERT_THAT(etcd_->Restart(*leader), IsOk());
    const int frozen = (*leader + 1) % 3;
    ASSERT_THAT(etcd_->Pause(frozen), IsOk());
    absl::SleepFor(absl::Milliseconds(1500));
    ASSERT_THAT(etcd_->Resume(frozen), IsOk());
  }

  inline static LocalEtcd* etcd_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(ConcurrencyProcessTest, LockedReadModifyWriteLosesNoIncrement) {
  constexpr int kWorkers = 3;
  constexpr int kIterations = 40;
  const std::string counter = "/conc-proc/counter";
  auto workers = StartWorkers(kWorkers, [&](int) {
    return std::vector<std::string>{"counter", etcd_->EndpointsFlag(),
                                    kStopKey,  "/conc-proc/lock",
                                    counter,   std::to_string(kIterations)};
  });
  Faults();
  ExpectStillRunning(workers);
  const int increments = StopAndExpectAllSucceed(workers);
  ASSERT_GE(increments, kWorkers * kIterations);
  absl::StatusOr<GetResult> got = client_->Get(counter);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->kvs.size(), 1u);
  EXPECT_EQ(got->kvs[0].value, std::to_string(increments));
  absl::StatusOr<GetResult> left = client_->Range(KeyRange::Prefix("/conc-proc/lock/"));
  ASSERT_THAT(left, IsOk());
  EXPECT_TRUE(left->kvs.empty());
}

TEST_F(ConcurrencyProcessTest, OneLeaderAtATime) {
  constexpr int kWorkers = 3;
  constexpr int kTerms = 6;
  const std::string log = "/conc-proc/log/";
  auto workers = StartWorkers(kWorkers, [&](int i) {
    return std::vector<std::string>{"leader",
                                    etcd_->EndpointsFlag(),
                                    kStopKey,
                                    "/conc-proc/election",
                                    log,
                                    std::to_string(kTerms),
                                    absl::StrCat("w", i)};
  });
  Faults();
  ExpectStillRunning(workers);
  const int all_terms = StopAndExpectAllSucceed(workers);
  ASSERT_GE(all_terms, kWorkers * kTerms);
  absl::StatusOr<GetResult> got = client_->Range(KeyRange::Prefix(log));
  ASSERT_THAT(got, IsOk());
  // (worker, term) -> [start, end] create revisions.
  std::map<std::string, std::pair<int64_t, int64_t>> terms;
  for (const KeyValue& kv : got->kvs) {
    const std::string rest = kv.key.substr(log.size());
    const size_t slash = rest.rfind('/');
    auto& term = terms[rest.substr(0, slash)];
    (rest.substr(slash + 1) == "start" ? term.first : term.second) = kv.create_revision;
  }
  ASSERT_EQ(terms.size(), static_cast<size_t>(all_terms));
  std::vector<std::pair<int64_t, int64_t>> intervals;
  for (const auto& [name, interval] : terms) {
    EXPECT_GT(interval.first, 0) << name;
    EXPECT_GT(interval.second, interval.first) << name;
    intervals.push_back(interval);
  }
  std::sort(intervals.begin(), intervals.end());
  for (size_t i = 1; i < intervals.size(); ++i) {
    EXPECT_GT(intervals[i].first, intervals[i - 1].second)
        << "two leaders at once: [" << intervals[i - 1].first << ", " << intervals[i - 1].second
        << "] and [" << intervals[i].first << ", " << intervals[i].second << "]";
  }
}

}  // namespace
}  // namespace etcdgrpc
