// Pickers over fixed endpoint sets: distributions, zone fallback, metadata
// filters, skipping failing endpoints, p2c and in-flight accounting, and the
// lock-free snapshot machinery under concurrent publishing.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "balancer_test_support.h"
#include "common/scheduler.h"
#include "etcdgrpc/resolver/balancer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/call_rules.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/epoch.h"
#include "resolver/internal/pick_table.h"
#include "resolver/internal/snapshot_cell.h"
#include "status_matchers.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::testing::BalancerCoreTest;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::MakeEndpoint;
using ::etcdgrpc::testing::MakeSet;
using ::etcdgrpc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BalancerTest : public BalancerCoreTest {
 protected:
  void SetFailing(const std::string& id, bool failing) {
    pool_->Get(id + ":1")->failing.store(failing);
  }
};

TEST(SmoothWeightedOrderTest, IsNginxSmoothOrder) {
  // Weights 5:1:1 interleave: a a b a c a a.
  EXPECT_THAT(internal::SmoothWeightedOrder({0, 1, 2}, {5, 1, 1}),
              ElementsAre(0, 0, 1, 0, 2, 0, 0));
  // Common factors are divided out; equal weights are plain round robin.
  EXPECT_THAT(internal::SmoothWeightedOrder({0, 1}, {10, 10}), ElementsAre(0, 1));
  // A period above the bound is scaled down, keeping the proportions.
  std::vector<uint32_t> bounded = internal::SmoothWeightedOrder({0, 1}, {3001, 5000}, 100);
  EXPECT_LE(bounded.size(), 100u);
  EXPECT_NEAR(std::count(bounded.begin(), bounded.end(), 1u), 62, 1);
}

TEST_F(BalancerTest, RoundRobinIsEven) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b"), MakeEndpoint("c")}));
  std::map<std::string, int> counts = Count(*core, 3000);
  EXPECT_EQ(counts["a"], 1000);
  EXPECT_EQ(counts["b"], 1000);
  EXPECT_EQ(counts["c"], 1000);
}

TEST_F(BalancerTest, WeightedWithinOnePercentOver100kPicks) {
  auto core =
      Make(MakeSet({MakeEndpoint("a", {{"weight", "1"}}), MakeEndpoint("b", {{"weight", "2"}}),
                    MakeEndpoint("c", {{"weight", "7"}})}),
           {.policy = Policy::kWeightedRoundRobin});
  constexpr int kPicks = 100000;
  std::map<std::string, int> counts = Count(*core, kPicks);
  EXPECT_NEAR(counts["a"] / double{kPicks}, 0.1, 0.01);
  EXPECT_NEAR(counts["b"] / double{kPicks}, 0.2, 0.01);
  EXPECT_NEAR(counts["c"] / double{kPicks}, 0.7, 0.01);
}

TEST_F(BalancerTest, BadWeightsCountAsOne) {
  auto core = Make(
      MakeSet({MakeEndpoint("a", {{"weight", "zero"}}), MakeEndpoint("b", {{"weight", "-3"}})}),
      {.policy = Policy::kWeightedRoundRobin});
  std::map<std::string, int> counts = Count(*core, 1000);
  EXPECT_EQ(counts["a"], 500);
  EXPECT_EQ(counts["b"], 500);
}

TEST_F(BalancerTest, PickFirstStaysOnTheFirstUntilItFails) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b")}), {.policy = Policy::kPickFirst});
  EXPECT_EQ(Count(*core, 100)["a"], 100);
  SetFailing("a", true);
  EXPECT_EQ(Count(*core, 100)["b"], 100);
  SetFailing("a", false);
  EXPECT_EQ(Count(*core, 100)["a"], 100);
}

TEST_F(BalancerTest, FailingEndpointsAreSkippedUntilAllFail) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b"), MakeEndpoint("c")}));
  SetFailing("b", true);
  std::map<std::string, int> counts = Count(*core, 1000);
  EXPECT_EQ(counts["b"], 0);
  EXPECT_EQ(counts["a"] + counts["c"], 1000);
  SetFailing("a", true);
  SetFailing("c", true);
  // Nothing healthy: pick anyway rather than fail (it may have recovered).
  EXPECT_EQ(Count(*core, 300).size(), 3u);
}

TEST_F(BalancerTest, DoneWithUnavailableMarksTheEndpointFailing) {
  auto core = Make(MakeSet({MakeEndpoint("a")}));
  absl::StatusOr<PickResult> pick = core->Pick();
  ASSERT_THAT(pick, IsOk());
  pick->Done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"));
  EXPECT_TRUE(pool_->Get("a:1")->failing.load());
}

TEST_F(BalancerTest, APickStaysValidAfterDoneAndNotAfterAMove) {
  auto core = Make(MakeSet({MakeEndpoint("a")}));
  absl::StatusOr<PickResult> pick = core->Pick();
  ASSERT_THAT(pick, IsOk());
  EXPECT_TRUE(pick->valid());
  pick->Done(grpc::Status::OK);
  EXPECT_TRUE(pick->valid());
  EXPECT_EQ(pick->endpoint().address(), "a:1");
  PickResult moved = *std::move(pick);
  EXPECT_TRUE(moved.valid());
  EXPECT_FALSE(pick->valid());
}

TEST_F(BalancerTest, ZonePreferenceWithFallback) {
  auto core =
      Make(MakeSet({MakeEndpoint("a", {{"zone", "east"}}), MakeEndpoint("b", {{"zone", "west"}}),
                    MakeEndpoint("c", {{"zone", "east"}})}),
           {.preferred_zone = "east"});
  std::map<std::string, int> counts = Count(*core, 1000);
  EXPECT_EQ(counts["b"], 0);
  EXPECT_EQ(counts["a"], 500);
  SetFailing("a", true);
  SetFailing("c", true);
  EXPECT_EQ(Count(*core, 100)["b"], 100);  // no healthy east: fall back to west
}

TEST_F(BalancerTest, MetadataFilter) {
  auto core = Make(MakeSet({MakeEndpoint("a", {{"version", "v1"}}),
                            MakeEndpoint("b", {{"version", "v2"}}), MakeEndpoint("c")}),
                   {.require_metadata = {{"version", "v2"}}});
  EXPECT_EQ(core->eligible(), 1u);
  EXPECT_EQ(Count(*core, 50)["b"], 50);
  auto none = Make(MakeSet({MakeEndpoint("a")}), {.require_metadata = {{"version", "v9"}}});
  EXPECT_THAT(none->Pick(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after the metadata filter")));
}

TEST_F(BalancerTest, PowerOfTwoChoicesAvoidsTheLoadedEndpoint) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b"), MakeEndpoint("c")}),
                   {.policy = Policy::kPowerOfTwoChoices});
  // Picks count as in flight until released.
  {
    std::vector<PickResult> held;
    for (int i = 0; i < 9; ++i) {
      absl::StatusOr<PickResult> pick = core->Pick();
      ASSERT_THAT(pick, IsOk());
      held.push_back(*std::move(pick));
    }
    EXPECT_EQ(pool_->Get("a:1")->in_flight.load() + pool_->Get("b:1")->in_flight.load() +
                  pool_->Get("c:1")->in_flight.load(),
              9);
  }
  EXPECT_EQ(pool_->Get("b:1")->in_flight.load(), 0);
  // Ten calls in flight on "b" (as another caller's picks would be).
  pool_->Get("b:1")->in_flight.store(10);
  std::map<std::string, int> counts = Count(*core, 3000);
  // "b" only wins a sample against ... nobody: with three members a pair
  // always holds an unloaded one.
  EXPECT_EQ(counts["b"], 0);
  EXPECT_GT(counts["a"], 1000);
  EXPECT_GT(counts["c"], 1000);
  pool_->Get("b:1")->in_flight.store(0);
}

TEST_F(BalancerTest, NoEndpointsWaitsThenFailsNamingTheService) {
  auto core = Make(MakeSet({}));
  const absl::Time start = absl::Now();
  EXPECT_THAT(core->Pick(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("service \"svc\"")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST_F(BalancerTest, PickWaitsForAFirstEndpoint) {
  auto core = std::make_shared<internal::BalancerCore>(
      "svc", BalancerOptions{.wait_for_endpoints = absl::Seconds(10)}, pool_);
  core->Update(MakeSet({}));
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(100));
    core->Update(MakeSet({MakeEndpoint("a")}));
  });
  absl::StatusOr<PickResult> pick = core->Pick();
  later.join();
  ASSERT_THAT(pick, IsOk());
  EXPECT_EQ(pick->endpoint().instance.id, "a");
}

// The call engine's pick (its threads must not block): no endpoint is
// nullopt at once, whatever wait_for_endpoints says.
TEST_F(BalancerTest, TheCallEnginesPickNeverWaits) {
  auto core = std::make_shared<internal::BalancerCore>(
      "svc", BalancerOptions{.wait_for_endpoints = absl::Seconds(10)}, pool_);
  core->Update(MakeSet({}));
  Balancer balancer(core);
  const absl::Time start = absl::Now();
  EXPECT_FALSE(call_engine::PickAvoiding(balancer, {}).has_value());
  EXPECT_FALSE(call_engine::PickAvoiding(balancer, {"a:1"}).has_value());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  core->Update(MakeSet({MakeEndpoint("a")}));
  std::optional<PickResult> pick = call_engine::PickAvoiding(balancer, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->endpoint().instance.id, "a");
}

TEST_F(BalancerTest, ConcurrentPicksWhileTheTableChanges) {
  auto core = Make(MakeSet({MakeEndpoint("a"), MakeEndpoint("b")}));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> picks{0};
  std::vector<std::thread> pickers;
  for (int t = 0; t < 3; ++t) {
    pickers.emplace_back([&] {
      while (!stop.load()) {
        absl::StatusOr<PickResult> pick = core->Pick();
        if (pick.ok() && !pick->endpoint().instance.id.empty()) ++picks;
      }
    });
  }
  // Updates go on until the pickers have really run alongside them (on a
  // loaded machine the threads may start late), within a bound.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (int i = 0; i < 2000 || (picks.load() < 1000 && absl::Now() < give_up); ++i) {
    core->Update(MakeSet({MakeEndpoint(absl::StrCat("e", i % 7)), MakeEndpoint("b")}));
  }
  stop = true;
  for (auto& thread : pickers) thread.join();
  EXPECT_GT(picks.load(), 0);
  internal::EpochDomain::Global().Collect();
}

TEST(EpochTest, RetiredValueOutlivesAReaderThatCouldSeeIt) {
  auto& domain = internal::EpochDomain::Global();
  domain.Collect();
  const size_t before = domain.pending();
  std::atomic<bool> freed{false};
  {
    internal::EpochDomain::ReadGuard guard;
    domain.Retire([&] { freed = true; });
    EXPECT_FALSE(freed.load());  // this thread is still reading
    EXPECT_EQ(domain.pending(), before + 1);
  }
  domain.Collect();
  EXPECT_TRUE(freed.load());
}

TEST(EpochTest, SnapshotCellUnderConcurrentReadersAndWriter) {
  internal::SnapshotCell<std::vector<int>> cell(std::make_unique<std::vector<int>>(64, 0));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> sum{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        internal::EpochDomain::ReadGuard guard;
        const std::vector<int>& values = *cell.Load();
        int64_t local = 0;
        for (int v : values) local += v;  // ASan would catch a freed vector
        sum += local;
      }
    });
  }
  for (int i = 1; i <= 5000; ++i) cell.Publish(std::make_unique<std::vector<int>>(64, i));
  stop = true;
  for (auto& reader : readers) reader.join();
  internal::EpochDomain::Global().Collect();
  EXPECT_EQ(internal::EpochDomain::Global().pending(), 0u);
  EXPECT_GE(sum.load(), 0);
}

TEST(DiffTest, AddedRemovedUpdated) {
  auto a = MakeEndpoint("a");
  auto b = MakeEndpoint("b");
  auto b2 = std::make_shared<Endpoint>(*b);
  b2->mod_revision = 2;
  b2->instance.metadata["weight"] = "3";
  auto c = MakeEndpoint("c");
  EndpointChanges changes = Diff(MakeSet({a, b}), MakeSet({b2, c}));
  ASSERT_EQ(changes.added.size(), 1u);
  EXPECT_EQ(changes.added[0]->instance.id, "c");
  ASSERT_EQ(changes.removed.size(), 1u);
  EXPECT_EQ(changes.removed[0]->instance.id, "a");
  ASSERT_EQ(changes.updated.size(), 1u);
  EXPECT_EQ(changes.updated[0]->instance.metadata.at("weight"), "3");
}

}  // namespace
}  // namespace etcdgrpc::resolver
