// ThreadSet (common/thread_set.h): finished threads are joined early, the
// rest on JoinAll(), which refuses to wait for the thread calling it.
#include "common/thread_set.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

TEST(ThreadSetTest, FinishedThreadsAreReapedAndRunningOnesWaitedFor) {
  ThreadSet threads;
  Notification release;
  threads.Start([&] { release.WaitForNotification(); });
  threads.Start([] {});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (threads.size() > 1 && absl::Now() < deadline) {
    threads.ReapFinished();
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(threads.size(), 1u);  // the quick one was joined, the blocked one not
  release.Notify();
  threads.JoinAll();
  EXPECT_EQ(threads.size(), 0u);
}

TEST(ThreadSetDeathTest, JoinAllFromOneOfItsThreadsSaysWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ThreadSet threads;
        Notification done;
        threads.Start([&] {
          threads.JoinAll();
          done.Notify();
        });
        done.WaitForNotification();
      },
      "destroyed from inside one of its own callbacks");
}

}  // namespace
}  // namespace etcdgrpc::internal
