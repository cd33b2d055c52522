// The project's synchronization primitives (common/mutex.h): CondVar waits
// with deadlines on the monotonic clock, Notification, WaitGroup.
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

TEST(CondVarTest, WaitUntilReturnsFalseAtTheDeadlineAndTrueWhenThePredicateHolds) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  {
    MutexLock lock(&mu);
    const absl::Time start = MonoNow();
    EXPECT_FALSE(cv.WaitUntil(mu, start + absl::Milliseconds(50),
                              [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return ready; }));
    EXPECT_GE(MonoNow() - start, absl::Milliseconds(50));
  }
  std::thread setter([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.Notify();
  });
  {
    MutexLock lock(&mu);
    EXPECT_TRUE(cv.WaitUntil(mu, MonoNow() + absl::Seconds(10),
                             [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return ready; }));
  }
  setter.join();
}

TEST(NotificationTest, WaitsUntilNotifiedAndStaysNotified) {
  Notification notification;
  EXPECT_FALSE(notification.HasBeenNotified());
  EXPECT_FALSE(notification.WaitForNotificationWithTimeout(absl::Milliseconds(10)));
  std::thread notifier([&] { notification.Notify(); });
  notification.WaitForNotification();
  notifier.join();
  EXPECT_TRUE(notification.HasBeenNotified());
  EXPECT_TRUE(notification.WaitForNotificationWithTimeout(absl::ZeroDuration()));
}

TEST(WaitGroupTest, WaitsForEveryEventOrTheDeadline) {
  WaitGroup group;
  EXPECT_TRUE(group.WaitUntil(MonoNow()));  // nothing to wait for
  group.Add(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { group.Done(); });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(group.pending(), 1);
  EXPECT_FALSE(group.WaitUntil(MonoNow() + absl::Milliseconds(20)));
  std::thread last([&] { group.Done(); });
  EXPECT_TRUE(group.WaitUntil(MonoNow() + absl::Seconds(10)));
  last.join();
  EXPECT_EQ(group.pending(), 0);
  // More Done() than Add(): the count stays at zero.
  group.Done();
  EXPECT_EQ(group.pending(), 0);
}

}  // namespace
}  // namespace etcdgrpc::internal
