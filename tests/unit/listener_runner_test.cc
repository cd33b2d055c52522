// The listener runner shared by the client, the registry and the resolver:
// jobs in order, a blocked job hands the queue to a new worker (so only its
// own later work waits), shutting down from inside a job and from outside
// (what is queued still runs), posting after shutdown, the runner going on
// without hand-offs once its scheduler has stopped (the client stops its
// timer before its runner), telling its workers from other threads.
#include "common/listener_runner.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

using ::testing::ElementsAre;

class ListenerRunnerTest : public ::testing::Test {
 protected:
  ~ListenerRunnerTest() override {
    runner_->Shutdown();
    scheduler_.Shutdown();
  }

  void Record(int value) {
    MutexLock lock(&mu_);
    seen_.push_back(value);
    changed_.Notify();
  }
  std::vector<int> seen() {
    MutexLock lock(&mu_);
    return seen_;
  }
  bool WaitForCount(size_t n, absl::Duration timeout) {
    MutexLock lock(&mu_);
    return changed_.WaitUntil(mu_, MonoNow() + timeout, [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return seen_.size() >= n;
    });
  }

  Scheduler scheduler_;
  std::shared_ptr<ListenerRunner> runner_ =
      ListenerRunner::Create(absl::Milliseconds(100), &scheduler_);
  Mutex mu_;
  CondVar changed_;
  std::vector<int> seen_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ListenerRunnerTest, RunsJobsInPostingOrderOnOneWorker) {
  for (int i = 0; i < 100; ++i) runner_->Post([this, i] { Record(i); });
  ASSERT_TRUE(WaitForCount(100, absl::Seconds(10)));
  std::vector<int> expected;
  for (int i = 0; i < 100; ++i) expected.push_back(i);
  EXPECT_EQ(seen(), expected);
  EXPECT_EQ(runner_->workers_started(), 1u);
}

TEST_F(ListenerRunnerTest, ABlockedJobHoldsUpOnlyItself) {
  Notification release;
  runner_->Post([&] {
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    Record(0);
  });
  for (int i = 1; i <= 3; ++i) runner_->Post([this, i] { Record(i); });
  // The others run on a new worker while the first is still blocked.
  ASSERT_TRUE(WaitForCount(3, absl::Seconds(10)));
  EXPECT_THAT(seen(), ElementsAre(1, 2, 3));
  EXPECT_EQ(runner_->workers_started(), 2u);
  release.Notify();
  ASSERT_TRUE(WaitForCount(4, absl::Seconds(10)));
  EXPECT_THAT(seen(), ElementsAre(1, 2, 3, 0));
  // And the runner goes on with one worker.
  runner_->Post([this] { Record(4); });
  ASSERT_TRUE(WaitForCount(5, absl::Seconds(10)));
}

TEST_F(ListenerRunnerTest, ShutdownFromInsideAJobRunsWhatIsQueuedAndReturns) {
  Notification done;
  runner_->Post([&] {
    runner_->Post([this] { Record(2); });
    runner_->Shutdown();  // does not wait for this job
    Record(1);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // What was queued ran inside Shutdown(), before it returned.
  EXPECT_THAT(seen(), ElementsAre(2, 1));
  // Posting after shutdown runs on the caller: nothing is dropped.
  runner_->Post([this] { Record(3); });
  EXPECT_THAT(seen(), ElementsAre(2, 1, 3));
}

TEST_F(ListenerRunnerTest, ShutdownWaitsForARunningJob) {
  Notification started;
  std::atomic<bool> finished{false};
  runner_->Post([&] {
    started.Notify();
    absl::SleepFor(absl::Milliseconds(300));
    finished = true;
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  runner_->Shutdown();
  EXPECT_TRUE(finished);
}

TEST_F(ListenerRunnerTest, ShutdownRunsWhatIsQueuedBehindARunningJobBeforeReturning) {
  // The client's Close(): its timer is stopped first (so no hand-off
  // reorders the jobs here); callbacks queued behind one in progress are not
  // dropped; the one in progress is waited for, then the rest run here.
  scheduler_.Shutdown();
  runner_->Post([this] {
    absl::SleepFor(absl::Milliseconds(50));
    Record(0);
  });
  for (int i = 1; i <= 5; ++i) runner_->Post([this, i] { Record(i); });
  runner_->Shutdown();
  EXPECT_THAT(seen(), ElementsAre(0, 1, 2, 3, 4, 5));
  // Posting after shutdown runs on the caller, at once.
  std::thread::id ran_on;
  runner_->Post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  runner_->Shutdown();  // idempotent
}

TEST_F(ListenerRunnerTest, GoesOnWithoutHandOffsOnceItsSchedulerIsShutDown) {
  // The client shuts its timer down before its runner: the hand-off checks
  // are dropped, the jobs still run, in order, on the one worker.
  scheduler_.Shutdown();
  runner_->Post([this] {
    absl::SleepFor(absl::Milliseconds(250));  // past the 100 ms hand-off
    Record(0);
  });
  runner_->Post([this] { Record(1); });
  ASSERT_TRUE(WaitForCount(2, absl::Seconds(10)));
  EXPECT_THAT(seen(), ElementsAre(0, 1));
  EXPECT_EQ(runner_->workers_started(), 1u);
  runner_->Shutdown();
}

TEST_F(ListenerRunnerTest, IsWorkerOnlyOnItsOwnWorkers) {
  std::shared_ptr<ListenerRunner> other = ListenerRunner::Create(absl::Seconds(1), &scheduler_);
  EXPECT_FALSE(runner_->IsWorker());
  std::atomic<bool> on_own{false};
  std::atomic<bool> on_other{true};
  runner_->Post([&] {
    on_own = runner_->IsWorker();
    on_other = other->IsWorker();
    Record(0);
  });
  ASSERT_TRUE(WaitForCount(1, absl::Seconds(10)));
  EXPECT_TRUE(on_own);
  EXPECT_FALSE(on_other);
  other->Shutdown();
  // Jobs run inline after Shutdown() are not on a worker.
  runner_->Shutdown();
  bool inline_is_worker = true;
  runner_->Post([&] { inline_is_worker = runner_->IsWorker(); });
  EXPECT_FALSE(inline_is_worker);
}

}  // namespace
}  // namespace etcdgrpc::internal
