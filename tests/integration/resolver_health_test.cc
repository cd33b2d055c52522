// The resolver's defences against bad endpoints, on real etcd and real gRPC
// servers: client health checking (NOT_SERVING and unreachable servers
// skipped and taken back, an unknown health-check name reported), ejection
// of a black-holed server, mass-disappearance protection (off for the native
// codec, on when the codec asks, released on recovery or after max_hold).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/resolver.h"
#include "fault_proxy.h"
#include "gmock/gmock.h"
#include "greeter.grpc.pb.h"
#include "greeter_test_server.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "resolver_waits.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "wait_until.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestGreeterServer;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;

// Collects OnProblem reports.
class ProblemRecorder : public ServiceListener {
 public:
  void OnUpdate(const EndpointSet&, const EndpointChanges&) override {}
  void OnProblem(const absl::Status& problem) override {
    MutexLock lock(&mu_);
    problems_.push_back(problem);
  }
  bool Heard(absl::string_view text) {
    MutexLock lock(&mu_);
    for (const absl::Status& problem : problems_) {
      if (absl::StrContains(problem.message(), text)) return true;
    }
    return false;
  }

 private:
  Mutex mu_;
  std::vector<absl::Status> problems_ ABSL_GUARDED_BY(mu_);
};

class ResolverHealthTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix() + "services";
  }
  // Registers `address` as instance `id` of "svc" (no lease).
  void Register(const std::string& id, const std::string& address) {
    registry::ServiceInstance instance{.service = "svc", .id = id, .address = address};
    absl::StatusOr<std::string> value = codec_->Encode(instance);
    ASSERT_THAT(value, IsOk());
    ASSERT_THAT(client_->Put(codec_->Key(prefix_, instance), *value), IsOk());
  }
  // Starts backends_ b0..b<n-1>, each registered as itself unless `registered` is false.
  void StartBackends(int n, bool registered = true) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> backend,
                           TestGreeterServer::Start(absl::StrCat("b", i)));
      if (registered) {
        ASSERT_NO_FATAL_FAILURE(Register(backend->id(), backend->address()));
      }
      backends_.push_back(std::move(backend));
    }
  }
  // One greeter call through `balancer`; its status is reported to the pick.
  static grpc::Status Call(Balancer& balancer, absl::Duration deadline = absl::Seconds(2)) {
    absl::StatusOr<PickResult> pick = balancer.Pick();
    if (!pick.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no pick");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(deadline));
    greeter::HelloRequest request;
    greeter::HelloReply reply;
    grpc::Status status = pick->NewStub<greeter::Greeter>()->SayHello(&context, request, &reply);
    pick->Done(status);
    return status;
  }
  static EndpointStats StatsOf(const Balancer& balancer, const std::string& address) {
    for (const EndpointStats& stats : balancer.endpoint_stats()) {
      if (stats.address == address) return stats;
    }
    return {};
  }
  // Whether every endpoint of `balancer` reports `health`.
  static bool EveryEndpointIs(const Balancer& balancer, EndpointHealth health) {
    for (const EndpointStats& stats : balancer.endpoint_stats()) {
      if (stats.health != health) return false;
    }
    return true;
  }
  ResolverOptions Options(HealthChecking health_checking = {}) {
    return {.prefix = prefix_, .codec = codec_, .health_checking = std::move(health_checking)};
  }

  std::string prefix_;
  std::shared_ptr<const registry::Codec> codec_ = registry::NativeCodec();
  std::vector<std::unique_ptr<TestGreeterServer>> backends_;
};

TEST_F(ResolverHealthTest, NotServingIsSkippedAndTakenBackWhenServingAgain) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(3));
  Resolver resolver(*client_, Options({.scope = HealthChecking::Scope::kAllServices}));
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  ASSERT_THAT(balancer, IsOk());
  TestGreeterServer& frozen = *backends_[1];
  ASSERT_TRUE(WaitUntil(
      [&] {
        return EveryEndpointIs(**balancer, EndpointHealth::kServing) &&
               (*balancer)->endpoint_stats().size() == 3;
      },
      absl::Seconds(5)));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(Call(**balancer).ok());
  EXPECT_GT(frozen.calls(), 0);

  frozen.SetServing(false);
  ASSERT_TRUE(WaitUntil(
      [&] { return StatsOf(**balancer, frozen.address()).health == EndpointHealth::kNotServing; },
      absl::Seconds(2), absl::Milliseconds(1)));
  const int64_t before = frozen.calls();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(Call(**balancer).ok());
  EXPECT_EQ(frozen.calls(), before);

  frozen.SetServing(true);
  ASSERT_TRUE(WaitUntil(
      [&] { return StatsOf(**balancer, frozen.address()).health == EndpointHealth::kServing; },
      absl::Seconds(2), absl::Milliseconds(1)));
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(Call(**balancer).ok());
  EXPECT_GE(frozen.calls(), before + 15);
}

TEST_F(ResolverHealthTest, AnUnreachableServerIsSkipped) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(2));
  Resolver resolver(*client_, Options({.scope = HealthChecking::Scope::kListedServices,
                                       .check_names = {{"svc", ""}}}));
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  ASSERT_THAT(balancer, IsOk());
  const std::string gone = backends_[0]->address();
  ASSERT_TRUE(
      WaitUntil([&] { return StatsOf(**balancer, gone).health == EndpointHealth::kServing; },
                absl::Seconds(5)));
  backends_[0]->Shutdown();
  ASSERT_TRUE(
      WaitUntil([&] { return StatsOf(**balancer, gone).health == EndpointHealth::kUnreachable; },
                absl::Seconds(3)));
  // Every call goes to the server that is left.
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(Call(**balancer).ok());
}

TEST_F(ResolverHealthTest, AnUnknownCheckNameIsSkippedAndReportedWithoutStallingPicks) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(2));
  Resolver resolver(*client_, Options({.scope = HealthChecking::Scope::kAllServices,
                                       .check_names = {{"svc", "no.such.Service"}}}));
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver.Watch("svc");
  ASSERT_THAT(view, IsOk());
  ProblemRecorder recorder;
  ServiceView::Subscription subscription = (*view)->Subscribe(&recorder);
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  ASSERT_THAT(balancer, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return recorder.Heard("SERVICE_UNKNOWN"); }, absl::Seconds(5)));
  EXPECT_TRUE(recorder.Heard("no.such.Service"));
  ASSERT_TRUE(
      WaitUntil([&] { return EveryEndpointIs(**balancer, EndpointHealth::kServiceUnknown); },
                absl::Seconds(5)));
  // Every endpoint is skipped: picks fall back to them rather than stall.
  const absl::Time start = absl::Now();
  EXPECT_TRUE(Call(**balancer).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(ResolverHealthTest, ABlackHoledServerIsEjectedWithinTwoDeadlines) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(3, /*registered=*/false));
  const int target = std::stoi(backends_[0]->address().substr(10));
  absl::StatusOr<std::unique_ptr<testing::FaultProxy>> proxy =
      testing::FaultProxy::Start({.target_port = target});
  ASSERT_THAT(proxy, IsOk());
  Register("b0", (*proxy)->address());
  Register("b1", backends_[1]->address());
  Register("b2", backends_[2]->address());
  Resolver resolver(*client_, Options());
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  ASSERT_THAT(balancer, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return (*balancer)->eligible() == 3; }, absl::Seconds(5)));
  const absl::Duration deadline = absl::Milliseconds(200);
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) (void)Call(**balancer, deadline);
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time black_hole = absl::Now();
  (*proxy)->SetBlackHole(testing::BlackHole::kStall);
  const bool ejected = WaitUntil([&] { return StatsOf(**balancer, (*proxy)->address()).ejected; },
                                 absl::Seconds(3), absl::Milliseconds(2));
  const absl::Duration took = absl::Now() - black_hole;
  stop.store(true);
  for (auto& caller : callers) caller.join();
  ASSERT_TRUE(ejected);
  // The calls in flight at the black hole time out one deadline later.
  EXPECT_LE(took, 2 * deadline + absl::Milliseconds(100)) << took;
  EndpointStats stats = StatsOf(**balancer, (*proxy)->address());
  EXPECT_EQ(stats.ejections, 1);
  EXPECT_FALSE(stats.channel_failing);  // TCP stays up: only ejection catches it
  (*proxy)->Pass();
}

// The native codec, except that it asks for the protection.
class ProtectingCodec : public registry::Codec {
 public:
  std::string_view name() const override { return inner_->name(); }
  std::string_view default_prefix() const override { return inner_->default_prefix(); }
  bool protects_against_mass_disappearance() const override { return true; }
  std::string Key(std::string_view prefix, const registry::ServiceInstance& i) const override {
    return inner_->Key(prefix, i);
  }
  absl::StatusOr<std::string> Encode(const registry::ServiceInstance& i) const override {
    return inner_->Encode(i);
  }
  absl::StatusOr<registry::ServiceInstance> Decode(std::string_view service, std::string_view key,
                                                   std::string_view value) const override {
    return inner_->Decode(service, key, value);
  }

 private:
  std::shared_ptr<const registry::Codec> inner_ = registry::NativeCodec();
};

class MassDisappearanceTest : public ResolverHealthTest {
 protected:
  // Four records a..d; then b, c and d deleted in one revision.
  int64_t RegisterAndDeleteThree(ServiceView& view) {
    for (const char* id : {"a", "b", "c", "d"}) Register(id, absl::StrCat(id, ".example:1"));
    absl::StatusOr<GetResult> listed = client_->Range(KeyRange::Prefix(prefix_));
    EXPECT_THAT(listed, IsOk());
    EXPECT_TRUE(testing::WaitForRevision(view, listed->header.revision));
    EXPECT_EQ(view.snapshot()->endpoints.size(), 4u);
    const std::string base = codec_->ServicePrefix(prefix_, "svc");
    absl::StatusOr<DeleteResult> deleted =
        client_->DeleteRange(KeyRange::Between(base + "b", base + "e"));
    EXPECT_THAT(deleted, IsOk());
    EXPECT_TRUE(testing::WaitForRevision(view, deleted->header.revision));
    return deleted->header.revision;
  }
};

TEST_F(MassDisappearanceTest, OffByDefaultForTheNativeCodec) {
  Resolver resolver(*client_, Options());
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver.Watch("svc");
  ASSERT_THAT(view, IsOk());
  RegisterAndDeleteThree(**view);
  EXPECT_EQ((*view)->snapshot()->endpoints.size(), 1u);
}

TEST_F(MassDisappearanceTest, TheCodecTurnsItOnKeepingTheLastSetUntilItRecovers) {
  codec_ = std::make_shared<ProtectingCodec>();
  Resolver resolver(*client_, Options());
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver.Watch("svc");
  ASSERT_THAT(view, IsOk());
  ProblemRecorder recorder;
  ServiceView::Subscription subscription = (*view)->Subscribe(&recorder);
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver.Balance("svc");
  ASSERT_THAT(balancer, IsOk());
  RegisterAndDeleteThree(**view);
  EXPECT_EQ((*view)->snapshot()->endpoints.size(), 4u);
  EXPECT_EQ((*balancer)->eligible(), 4u);
  ASSERT_TRUE(WaitUntil([&] { return recorder.Heard("3 of the 4 endpoints"); }, absl::Seconds(2)));
  // Two come back: one of four missing is within the share, so the records
  // are published as they are.
  Register("b", "b.example:1");
  Register("c", "c.example:1");
  ASSERT_TRUE(
      WaitUntil([&] { return (*view)->snapshot()->endpoints.size() == 3; }, absl::Seconds(5)));
}

// Replacements register under new keys (Kratos: a fresh UUID per process;
// go-zero: the lease id): enough live records end the hold whatever their
// keys, and the dead ones go.
TEST_F(MassDisappearanceTest, ReplacementsUnderNewKeysEndTheHold) {
  codec_ = std::make_shared<ProtectingCodec>();
  Resolver resolver(*client_, Options());
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver.Watch("svc");
  ASSERT_THAT(view, IsOk());
  RegisterAndDeleteThree(**view);
  ASSERT_EQ((*view)->snapshot()->endpoints.size(), 4u);
  // a and e live: two of four short, within the share.
  Register("e", "e.example:1");
  auto addresses = [&] {
    std::vector<std::string> all;
    for (const auto& endpoint : (*view)->snapshot()->endpoints) all.push_back(endpoint->address());
    return all;
  };
  EXPECT_TRUE(WaitUntil(
      [&] {
        return addresses() == std::vector<std::string>{"a.example:1", "e.example:1"};
      },
      absl::Seconds(5)))
      << absl::StrJoin(addresses(), ", ");
}

TEST_F(MassDisappearanceTest, ReleasedAfterMaxHold) {
  ResolverOptions options = Options();
  options.mass_disappearance = {.enabled = true, .max_hold = absl::Milliseconds(300)};
  Resolver resolver(*client_, options);
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver.Watch("svc");
  ASSERT_THAT(view, IsOk());
  ProblemRecorder recorder;
  ServiceView::Subscription subscription = (*view)->Subscribe(&recorder);
  RegisterAndDeleteThree(**view);
  EXPECT_EQ((*view)->snapshot()->endpoints.size(), 4u);
  ASSERT_TRUE(
      WaitUntil([&] { return (*view)->snapshot()->endpoints.size() == 1; }, absl::Seconds(3)));
  EXPECT_TRUE(recorder.Heard("were kept for 300ms"));
}

TEST_F(ResolverHealthTest, BadOutlierOptionsAreRefused) {
  Resolver resolver(*client_, Options());
  BalancerOptions options;
  options.outlier_ejection.max_ejected_share = 1.5;
  EXPECT_THAT(resolver.Balance("svc", options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = {};
  options.outlier_ejection.base_ejection_time = -absl::Seconds(1);
  EXPECT_THAT(resolver.Balance("svc", options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc::resolver
