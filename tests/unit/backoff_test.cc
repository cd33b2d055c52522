// The one backoff formula (common/backoff.h): growth, cap, jitter bounds,
// and Reset().
#include "common/backoff.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

BackoffOptions Options(double jitter) {
  BackoffOptions options;
  options.initial = absl::Milliseconds(100);
  options.max = absl::Seconds(1);
  options.multiplier = 2.0;
  options.jitter = jitter;
  return options;
}

TEST(BackoffTest, GrowsByTheMultiplierUpToTheCap) {
  const BackoffOptions options = Options(0);
  EXPECT_EQ(Backoff::DelayWithoutJitter(options, 0), absl::Milliseconds(100));
  EXPECT_EQ(Backoff::DelayWithoutJitter(options, 1), absl::Milliseconds(200));
  EXPECT_EQ(Backoff::DelayWithoutJitter(options, 3), absl::Milliseconds(800));
  EXPECT_EQ(Backoff::DelayWithoutJitter(options, 4), absl::Seconds(1));
  EXPECT_EQ(Backoff::DelayWithoutJitter(options, 1'000'000), absl::Seconds(1));
  absl::BitGen random;
  EXPECT_EQ(Backoff::Delay(options, 2, random), absl::Milliseconds(400));
}

TEST(BackoffTest, JitterStaysWithinItsBoundsAndSpreads) {
  const BackoffOptions options = Options(0.2);
  absl::BitGen random;
  absl::Duration low = absl::InfiniteDuration();
  absl::Duration high = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    const absl::Duration delay = Backoff::Delay(options, 4, random);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_GE(low, absl::Milliseconds(800));
  EXPECT_LE(high, absl::Milliseconds(1200));
  // 2,000 draws from [0.8 s, 1.2 s]: the extremes come within 40 ms of the ends.
  EXPECT_LT(low, absl::Milliseconds(840));
  EXPECT_GT(high, absl::Milliseconds(1160));
}

TEST(BackoffTest, NextGrowsUntilResetAndAMultiplierBelowOneDoesNotShrink) {
  Backoff backoff(Options(0));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(200));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(400));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
  BackoffOptions shrinking = Options(0);
  shrinking.multiplier = 0.5;
  Backoff flat(shrinking);
  EXPECT_EQ(flat.Next(), absl::Milliseconds(100));
  EXPECT_EQ(flat.Next(), absl::Milliseconds(100));
}

}  // namespace
}  // namespace etcdgrpc::internal
