// The listener runner shared by the registry and the resolver: jobs in
// order, a blocked job hands the queue to a new worker (so only its own
// later work waits), shutting down from inside a job, posting after shutdown.
#include "common/listener_runner.h"

#include <atomic>
#include <memory>
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

}  // namespace
}  // namespace etcdgrpc::internal
