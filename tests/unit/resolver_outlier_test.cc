// Outlier ejection: the arithmetic at chosen instants (runs of failures,
// failure rates per interval, growing and capped ejection times, the share
// cap, unejection, multiplier decay), then through a balancer's picks.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "balancer_test_support.h"
#include "etcdgrpc/resolver/balancer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/outlier_detector.h"
#include "status_matchers.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::testing::BalancerCoreTest;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::MakeEndpoint;
using ::etcdgrpc::testing::MakeSet;
using internal::OutlierDetector;
using internal::OutlierState;

constexpr grpc::StatusCode kFail = grpc::StatusCode::DEADLINE_EXCEEDED;
constexpr grpc::StatusCode kOk = grpc::StatusCode::OK;

// The detector at instant T0 + offset; T0 is an arbitrary monotonic instant.
const absl::Time kT0 = absl::FromUnixSeconds(1000000);

struct Fixture {
  explicit Fixture(OutlierEjection options, int members = 4) : detector(options, kT0) {
    std::vector<std::string> addresses;
    for (int i = 0; i < members; ++i) {
      addresses.push_back("e" + std::to_string(i) + ":1");
      states.push_back(detector.StateFor(addresses.back()));
    }
    detector.Retain(addresses);
  }
  void Record(int member, grpc::StatusCode code, absl::Duration at, int times = 1) {
    for (int i = 0; i < times; ++i) {
      detector.Record(*states[member], code, [&] { return kT0 + at; });
    }
  }
  bool Ejected(int member, absl::Duration at) {
    return OutlierDetector::Ejected(*states[member], kT0 + at);
  }
  OutlierDetector detector;
  std::vector<std::shared_ptr<OutlierState>> states;
};

OutlierEjection RunsOnly(int run = 3) {
  return {.consecutive_failures = run,
          .failure_rate_threshold = 0,
          .interval = absl::Seconds(10),
          .base_ejection_time = absl::Seconds(30),
          .max_ejection_time = absl::Seconds(300)};
}

TEST(OutlierDetectorTest, ARunOfFailuresEjectsForTheBaseTime) {
  Fixture f(RunsOnly(3));
  f.Record(0, kFail, absl::Seconds(1), 2);
  EXPECT_FALSE(f.Ejected(0, absl::Seconds(1)));
  f.Record(0, kFail, absl::Seconds(1));
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(1)));
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(30)));
  // Back after base_ejection_time (30 s from the ejection at 1 s).
  EXPECT_FALSE(f.Ejected(0, absl::Seconds(31)));
  EXPECT_EQ(f.states[0]->ejected_until_ns.load(), 0);
}

TEST(OutlierDetectorTest, ASuccessBreaksTheRunAndApplicationErrorsAreSuccesses) {
  Fixture f(RunsOnly(3));
  f.Record(0, kFail, absl::Seconds(1), 2);
  f.Record(0, kOk, absl::Seconds(1));
  f.Record(0, kFail, absl::Seconds(1), 2);
  f.Record(0, grpc::StatusCode::NOT_FOUND, absl::Seconds(1));
  f.Record(0, kFail, absl::Seconds(1), 2);
  EXPECT_FALSE(f.Ejected(0, absl::Seconds(1)));
  // The three counted codes by default.
  f.Record(0, grpc::StatusCode::RESOURCE_EXHAUSTED, absl::Seconds(1));
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(1)));
  f.Record(1, grpc::StatusCode::UNAVAILABLE, absl::Seconds(1), 3);
  EXPECT_TRUE(f.Ejected(1, absl::Seconds(1)));
}

TEST(OutlierDetectorTest, TheFailureCodesAreConfigurable) {
  OutlierEjection options = RunsOnly(2);
  options.failure_codes = {grpc::StatusCode::INTERNAL};
  Fixture f(options);
  f.Record(0, kFail, absl::Seconds(1), 5);
  EXPECT_FALSE(f.Ejected(0, absl::Seconds(1)));
  f.Record(0, grpc::StatusCode::INTERNAL, absl::Seconds(1), 2);
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(1)));
}

// Envoy's consecutive_5xx: a server that answers errors is failing too, not
// only one that times out or cannot be reached.
TEST(OutlierDetectorTest, TheDefaultFailureCodesAreTheServersFailures) {
  OutlierDetector detector(OutlierEjection{}, kT0);
  for (grpc::StatusCode code : {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED,
                                grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::UNKNOWN,
                                grpc::StatusCode::INTERNAL, grpc::StatusCode::DATA_LOSS}) {
    EXPECT_TRUE(detector.IsFailure(code)) << code;
  }
  for (grpc::StatusCode code :
       {grpc::StatusCode::OK, grpc::StatusCode::CANCELLED, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::UNIMPLEMENTED,
        grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::FAILED_PRECONDITION}) {
    EXPECT_FALSE(detector.IsFailure(code)) << code;
  }
  // A run of INTERNAL answers ejects under the defaults.
  Fixture f(OutlierEjection{});
  f.Record(0, grpc::StatusCode::INTERNAL, absl::Seconds(1), 5);
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(1)));
}

// Production's rule (PickResult::Done calls Record): CANCELLED neither
// breaks a run of failures nor counts as a call, unless it is listed.
TEST(OutlierDetectorTest, CancelledIsNoOutcomeUnlessListed) {
  Fixture f(RunsOnly(3));
  f.Record(0, kFail, absl::Seconds(1), 2);
  f.Record(0, grpc::StatusCode::CANCELLED, absl::Seconds(1), 3);
  EXPECT_EQ(f.states[0]->calls.load(), 2);
  EXPECT_EQ(f.states[0]->consecutive_failures.load(), 2);
  f.Record(0, kFail, absl::Seconds(1));
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(1)));

  OutlierEjection listed = RunsOnly(3);
  listed.failure_codes = {grpc::StatusCode::CANCELLED};
  Fixture g(listed);
  g.Record(0, grpc::StatusCode::CANCELLED, absl::Seconds(1), 3);
  EXPECT_TRUE(g.Ejected(0, absl::Seconds(1)));
}

TEST(OutlierDetectorTest, AFailureRateEjectsAtTheIntervalsEnd) {
  Fixture f({.consecutive_failures = 0,
             .failure_rate_threshold = 0.5,
             .failure_rate_minimum_calls = 10,
             .interval = absl::Seconds(10)});
  // Member 0: 6 failures of 10, never two in a row. Member 1: 4 of 10.
  // Member 2: 5 of 5, under the minimum volume.
  for (int i = 0; i < 10; ++i) {
    f.Record(0, i % 2 == 0 || i == 9 ? kFail : kOk, absl::Seconds(1));
    f.Record(1, i % 5 < 2 ? kFail : kOk, absl::Seconds(1));
  }
  f.Record(2, kFail, absl::Seconds(1), 5);
  EXPECT_FALSE(f.Ejected(0, absl::Seconds(9)));
  f.detector.MaybeSweep(kT0 + absl::Seconds(10));
  EXPECT_TRUE(f.Ejected(0, absl::Seconds(10)));
  EXPECT_FALSE(f.Ejected(1, absl::Seconds(10)));
  EXPECT_FALSE(f.Ejected(2, absl::Seconds(10)));
  // A new interval starts from zero: member 1's next 10 calls are clean.
  f.Record(1, kOk, absl::Seconds(11), 10);
  f.detector.MaybeSweep(kT0 + absl::Seconds(20));
  EXPECT_FALSE(f.Ejected(1, absl::Seconds(20)));
}

TEST(OutlierDetectorTest, EachEjectionLastsLongerUpToTheCap) {
  OutlierEjection options = RunsOnly(1);
  options.base_ejection_time = absl::Seconds(10);
  options.max_ejection_time = absl::Seconds(25);
  options.interval = absl::Hours(1);  // no decay within the test
  Fixture f(options);
  absl::Duration at = absl::Seconds(1);
  for (absl::Duration expected :
       {absl::Seconds(10), absl::Seconds(20), absl::Seconds(25), absl::Seconds(25)}) {
    f.Record(0, kFail, at);
    ASSERT_TRUE(f.Ejected(0, at));
    EXPECT_EQ(absl::FromUnixNanos(f.states[0]->ejected_until_ns.load()) - (kT0 + at), expected);
    EXPECT_TRUE(f.Ejected(0, at + expected - absl::Milliseconds(1)));
    EXPECT_FALSE(f.Ejected(0, at + expected));
    at += expected;
  }
  int multiplier = 0;
  int ejections = 0;
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(ejections, 4);
}

TEST(OutlierDetectorTest, TheMultiplierDecaysWhileTheEndpointBehaves) {
  OutlierEjection options = RunsOnly(1);
  options.base_ejection_time = absl::Seconds(10);
  options.interval = absl::Seconds(10);
  Fixture f(options);
  f.Record(0, kFail, absl::Seconds(1));   // x1, until 11 s
  f.Record(0, kFail, absl::Seconds(11));  // x2, until 31 s
  int multiplier = 0;
  int ejections = 0;
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(multiplier, 2);
  // Back at 31 s; sweeps at 41 s and 51 s find it one and two intervals
  // well: 2 → 1 → 0.
  f.detector.MaybeSweep(kT0 + absl::Seconds(41));
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(multiplier, 1);
  f.detector.MaybeSweep(kT0 + absl::Seconds(51));
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(multiplier, 0);
  f.Record(0, kFail, absl::Seconds(52));
  EXPECT_EQ(absl::FromUnixNanos(f.states[0]->ejected_until_ns.load()) - (kT0 + absl::Seconds(52)),
            absl::Seconds(10));
}

// Intervals spent ejected do not decay the multiplier (gRPC's A50): the
// decay counts from the end of the ejection, not from the last sweep.
TEST(OutlierDetectorTest, TheMultiplierDoesNotDecayWhileEjected) {
  OutlierEjection options = RunsOnly(1);
  options.base_ejection_time = absl::Seconds(30);
  options.interval = absl::Seconds(10);
  Fixture f(options);
  f.Record(0, kFail, absl::Seconds(1));  // x1, until 31 s; no sweep since
  int multiplier = 0;
  int ejections = 0;
  // Three intervals ended since (10, 20, 30 s), all spent ejected.
  f.detector.MaybeSweep(kT0 + absl::Seconds(32));
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(multiplier, 1);
  // So the next ejection is the second: twice the base.
  f.Record(0, kFail, absl::Seconds(33));
  EXPECT_EQ(absl::FromUnixNanos(f.states[0]->ejected_until_ns.load()) - (kT0 + absl::Seconds(33)),
            absl::Seconds(60));
  // Back at 93 s; at 104 s one whole interval has passed since: one less.
  f.detector.MaybeSweep(kT0 + absl::Seconds(104));
  f.detector.Counts(*f.states[0], multiplier, ejections);
  EXPECT_EQ(multiplier, 1);
}

TEST(OutlierDetectorTest, NeverMoreThanTheShare) {
  OutlierEjection options = RunsOnly(1);
  options.max_ejected_share = 0.5;
  Fixture f(options, 4);
  for (int i = 0; i < 4; ++i) f.Record(i, kFail, absl::Seconds(1), 3);
  int ejected = 0;
  for (int i = 0; i < 4; ++i) ejected += f.Ejected(i, absl::Seconds(1)) ? 1 : 0;
  EXPECT_EQ(ejected, 2);
  // Once the first ejections end, the others' next failures may eject them.
  f.Record(2, kFail, absl::Seconds(40));
  f.Record(3, kFail, absl::Seconds(40));
  EXPECT_TRUE(f.Ejected(2, absl::Seconds(40)));
  EXPECT_TRUE(f.Ejected(3, absl::Seconds(40)));
}

TEST(OutlierDetectorTest, SmallSetsFollowTheFloorOfTheShare) {
  for (auto [members, share, expected] : std::vector<std::tuple<int, double, int>>{
           {1, 0.5, 0}, {2, 0.5, 1}, {3, 0.5, 1}, {5, 0.5, 2}, {3, 0.1, 0}, {3, 1.0, 3}}) {
    OutlierEjection options = RunsOnly(1);
    options.max_ejected_share = share;
    Fixture f(options, members);
    int ejected = 0;
    for (int i = 0; i < members; ++i) {
      f.Record(i, kFail, absl::Seconds(1));
      ejected += f.Ejected(i, absl::Seconds(1)) ? 1 : 0;
    }
    EXPECT_EQ(ejected, expected) << members << " members, share " << share;
  }
}

TEST(OutlierDetectorTest, AnEndpointThatLeftIsNotEjectedAndComesBackAfresh) {
  Fixture f(RunsOnly(2));
  f.Record(0, kFail, absl::Seconds(1), 2);
  ASSERT_TRUE(f.Ejected(0, absl::Seconds(1)));
  f.detector.Retain({"e1:1", "e2:1", "e3:1"});
  auto again = f.detector.StateFor("e0:1");
  EXPECT_NE(again, f.states[0]);
  EXPECT_FALSE(OutlierDetector::Ejected(*again, kT0 + absl::Seconds(1)));
  f.Record(0, kFail, absl::Seconds(2), 5);  // the old state: no longer a member
  f.detector.Retain({"e0:1", "e1:1", "e2:1", "e3:1"});
  EXPECT_FALSE(OutlierDetector::Ejected(*again, kT0 + absl::Seconds(2)));
}

class EjectingBalancerTest : public BalancerCoreTest {};

TEST_F(EjectingBalancerTest, DeadlinesEjectAndPicksSkipTheEjected) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b"), MakeEndpoint("c")}));
  int failed = 0;
  // Calls that time out on "b" only (its channel stays READY: a black hole).
  for (int i = 0; i < 60 && failed < 5; ++i) {
    absl::StatusOr<PickResult> pick = core->Pick();
    ASSERT_THAT(pick, IsOk());
    if (pick->endpoint().instance.id == "b") {
      pick->Done(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline"));
      ++failed;
    } else {
      pick->Done(grpc::Status::OK);
    }
  }
  ASSERT_EQ(failed, 5);
  EXPECT_EQ(Count(*core, 300)["b"], 0);
  std::vector<EndpointStats> stats = core->endpoint_stats();
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_FALSE(stats[0].ejected);
  EXPECT_TRUE(stats[1].ejected);
  EXPECT_EQ(stats[1].address, "b:1");
  EXPECT_EQ(stats[1].ejections, 1);
  EXPECT_EQ(stats[1].failures, 5);
  EXPECT_GT(stats[1].ejected_for, absl::Seconds(29));
  EXPECT_LE(stats[1].ejected_for, absl::Seconds(30));
  EXPECT_GT(stats[0].successes, 0);
  EXPECT_FALSE(stats[1].channel_failing);  // not UNAVAILABLE
}

// The call helper reports a losing hedge and a pick it did not use as
// CANCELLED: neither breaks a run of failures nor counts as a success.
TEST_F(EjectingBalancerTest, CancelledCountsAsNothing) {
  BalancerOptions options;
  options.policy = Policy::kPickFirst;
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b")}), options);
  for (int i = 0; i < 5; ++i) {
    for (grpc::StatusCode code :
         {grpc::StatusCode::CANCELLED, grpc::StatusCode::DEADLINE_EXCEEDED}) {
      absl::StatusOr<PickResult> pick = core->Pick();
      ASSERT_THAT(pick, IsOk());
      ASSERT_EQ(pick->endpoint().instance.id, "a");
      pick->Done(grpc::Status(code, "x"));
    }
  }
  std::vector<EndpointStats> stats = core->endpoint_stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_TRUE(stats[0].ejected);
  EXPECT_EQ(stats[0].failures, 5);
  EXPECT_EQ(stats[0].successes, 0);
}

TEST_F(EjectingBalancerTest, UnejectedAfterTheEjectionTime) {
  BalancerOptions options;
  options.outlier_ejection.consecutive_failures = 1;
  options.outlier_ejection.base_ejection_time = absl::Milliseconds(100);
  options.policy = Policy::kPickFirst;
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b")}), options);
  {
    absl::StatusOr<PickResult> pick = core->Pick();
    ASSERT_THAT(pick, IsOk());
    ASSERT_EQ(pick->endpoint().instance.id, "a");
    pick->Done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "busy"));
  }
  EXPECT_EQ(Count(*core, 10)["b"], 10);
  absl::SleepFor(absl::Milliseconds(120));
  EXPECT_EQ(Count(*core, 10)["a"], 10);
}

TEST_F(EjectingBalancerTest, OffMeansNoEjection) {
  BalancerOptions options;
  options.outlier_ejection.enabled = false;
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b")}), options);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<PickResult> pick = core->Pick();
    ASSERT_THAT(pick, IsOk());
    pick->Done(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline"));
  }
  std::map<std::string, int> counts = Count(*core, 100);
  EXPECT_EQ(counts["a"], 50);
  EXPECT_EQ(counts["b"], 50);
  EXPECT_FALSE(core->endpoint_stats()[0].ejected);
}

TEST_F(EjectingBalancerTest, RecordsMarkedNotServingAreNotEligible) {
  auto core = Make(MakeSet({MakeEndpoint("a", {{"health", "NOT_SERVING"}}), MakeEndpoint("b"),
                            MakeEndpoint("c", {{"health", "SERVING"}})}));
  EXPECT_EQ(core->eligible(), 2u);
  std::map<std::string, int> counts = Count(*core, 100);
  EXPECT_EQ(counts["a"], 0);
  EXPECT_EQ(counts["b"] + counts["c"], 100);
}

}  // namespace
}  // namespace etcdgrpc::resolver
