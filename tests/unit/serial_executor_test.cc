// SerialExecutor (common/serial_executor.h): one subscriber's callbacks one at
// a time and in order, whichever threads produce them; Stop() waits for a
// running callback unless called from inside it.
#include "common/serial_executor.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

TEST(SerialExecutorTest, ACallbackPostedFromInsideOneRunsAfterIt) {
  SerialExecutor executor;
  std::vector<int> order;
  executor.Run([&] {
    order.push_back(1);
    executor.Run([&] { order.push_back(3); });
    order.push_back(2);
  });
  EXPECT_THAT(order, ::testing::ElementsAre(1, 2, 3));
}

TEST(SerialExecutorTest, CallbacksFromSeveralThreadsNeverOverlap) {
  SerialExecutor executor;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        executor.Run([&] {
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          ran.fetch_add(1);
          inside.fetch_sub(1);
        });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(ran.load(), 2000);
}

TEST(SerialExecutorTest, PostThenDrainRunsOnTheDrainingThreadInOrder) {
  SerialExecutor executor;
  std::vector<int> order;
  EXPECT_TRUE(executor.Post([&] { order.push_back(1); }));
  // Already owed a Drain(): the second post rides on it.
  EXPECT_FALSE(executor.Post([&] { order.push_back(2); }));
  std::thread drainer([&] { executor.Drain(); });
  drainer.join();
  EXPECT_THAT(order, ::testing::ElementsAre(1, 2));
}

TEST(SerialExecutorTest, StopWaitsForARunningCallbackAndDropsTheRest) {
  SerialExecutor executor;
  Notification entered;
  Notification release;
  std::atomic<bool> later_ran{false};
  std::thread runner([&] {
    executor.Run([&] {
      entered.Notify();
      release.WaitForNotification();
    });
  });
  entered.WaitForNotification();
  EXPECT_FALSE(executor.Post([&] { later_ran = true; }));
  Notification stopped;
  std::thread stopper([&] {
    executor.Stop();
    stopped.Notify();
  });
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  release.Notify();
  EXPECT_TRUE(stopped.WaitForNotificationWithTimeout(absl::Seconds(10)));
  runner.join();
  stopper.join();
  EXPECT_FALSE(later_ran.load());
  EXPECT_TRUE(executor.stopped());
  executor.Run([&] { later_ran = true; });
  EXPECT_FALSE(later_ran.load());
}

TEST(SerialExecutorTest, StopFromInsideACallbackDoesNotWaitForIt) {
  SerialExecutor executor;
  bool after_stop = false;
  executor.Run([&] {
    executor.Stop();
    after_stop = true;
  });
  EXPECT_TRUE(after_stop);
  EXPECT_TRUE(executor.stopped());
}

}  // namespace
}  // namespace etcdgrpc::internal
