// The one Scheduler (common/scheduler.h): tasks in time order and posting
// order, slots woken on request and at the time they answer, and a shutdown
// that drops what is left without running it.
#include "common/scheduler.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

using ::testing::ElementsAre;

// Records which task ran, in order.
class Trace {
 public:
  void Add(int id) {
    MutexLock lock(&mu_);
    ids_.push_back(id);
  }
  std::vector<int> ids() {
    MutexLock lock(&mu_);
    return ids_;
  }

 private:
  Mutex mu_;
  std::vector<int> ids_ ABSL_GUARDED_BY(mu_);
};

TEST(SchedulerTest, TasksRunInTimeOrderAndPostingOrderAmongEqualTimes) {
  Scheduler scheduler;
  Trace trace;
  Notification done;
  const absl::Time base = MonoNow() + absl::Milliseconds(50);
  scheduler.PostAt(base + absl::Milliseconds(20), [&] {
    trace.Add(4);
    done.Notify();
  });
  scheduler.PostAt(base, [&] { trace.Add(1); });
  scheduler.PostAt(base + absl::Milliseconds(10), [&] { trace.Add(2); });
  scheduler.PostAt(base + absl::Milliseconds(10), [&] { trace.Add(3); });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(trace.ids(), ElementsAre(1, 2, 3, 4));
}

TEST(SchedulerTest, ATaskDoesNotRunBeforeItsTime) {
  Scheduler scheduler;
  Notification ran;
  const absl::Time posted = MonoNow();
  absl::Time at;
  scheduler.PostAfter(absl::Milliseconds(100), [&] {
    at = MonoNow();
    ran.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(at - posted, absl::Milliseconds(100));
}

// A slot that answers "again after `period`" and counts its calls.
class CountingSlot : public Scheduler::Slot {
 public:
  explicit CountingSlot(absl::Duration period) : period_(period) {}
  absl::Time OnTimer(absl::Time now) override {
    calls_.fetch_add(1);
    return period_ == absl::InfiniteDuration() ? absl::InfiniteFuture() : now + period_;
  }
  int calls() const { return calls_.load(); }

 private:
  const absl::Duration period_;
  std::atomic<int> calls_{0};
};

TEST(SchedulerTest, ASlotRunsWhenWokenAndThenAtTheTimeItAnswers) {
  Scheduler scheduler;
  CountingSlot periodic(absl::Milliseconds(10));
  CountingSlot on_request(absl::InfiniteDuration());
  scheduler.Add(&periodic);
  scheduler.Add(&on_request);
  absl::SleepFor(absl::Milliseconds(50));
  // Added slots first run when woken.
  EXPECT_EQ(periodic.calls(), 0);
  scheduler.RequestWake(&periodic, MonoNow());
  scheduler.RequestWake(&on_request, MonoNow() + absl::Milliseconds(20));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (periodic.calls() < 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(periodic.calls(), 5);
  // Woken once, it answered "never": it ran exactly once.
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(on_request.calls(), 1);
  scheduler.Shutdown();
}

TEST(SchedulerTest, ShutdownDropsTheTasksLeftWithoutRunningThem) {
  auto scheduler = std::make_unique<Scheduler>();
  std::atomic<int> ran{0};
  auto alive = std::make_shared<int>(0);
  scheduler->PostAfter(absl::Hours(1), [&ran, alive] { ran.fetch_add(1); });
  scheduler->Shutdown();
  // Destroyed, not run: its captures are released.
  EXPECT_EQ(alive.use_count(), 1);
  scheduler->Post([&ran] { ran.fetch_add(1); });
  scheduler.reset();
  EXPECT_EQ(ran.load(), 0);
}

TEST(SchedulerTest, ShutdownFromATaskDoesNotWaitForItself) {
  Scheduler scheduler;
  Notification done;
  scheduler.Post([&] {
    scheduler.Shutdown();
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // ~Scheduler now, while the detached thread may still be leaving Run().
}

// The owner may be destroyed by a task's captures on the thread itself, or
// right after a task that shut it down returns: the thread then leaves on its
// own state (ASan and TSan see a use after free otherwise).
TEST(SchedulerTest, DestroyedFromInsideItsOwnTaskTheThreadLeavesSafely) {
  auto* scheduler = new Scheduler();
  Notification done;
  scheduler->Post([scheduler, &done] {
    delete scheduler;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(50));  // the detached thread leaves Run()
}

}  // namespace
}  // namespace etcdgrpc::internal
