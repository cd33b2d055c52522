// Balanced calls (etcdgrpc/resolver/balanced_call.h) on a real etcd: in-process Greeter servers
// registered through the registry and found through the resolver, some failing on purpose
// (UNAVAILABLE, RESOURCE_EXHAUSTED, slower than the deadline). Retries go to another endpoint,
// calls that are not idempotent are not retried once sent, the overall deadline bounds
// everything, hedging sends a second attempt and cancels the loser, the callback form calls
// back exactly once, bad policies are refused before any call.
#include "etcdgrpc/resolver/balanced_call.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"
#include "gmock/gmock.h"
#include "greeter.grpc.pb.h"
#include "greeter_calls.h"
#include "greeter_test_server.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::testing {
namespace {

using ::etcdgrpc::resolver::BalancedStub;
using ::etcdgrpc::resolver::Balancer;
using ::etcdgrpc::resolver::CallPolicy;
using ::etcdgrpc::resolver::CallResult;
using ::etcdgrpc::resolver::HedgingPolicy;
using ::etcdgrpc::resolver::LinearBackoff;
using ::etcdgrpc::resolver::Resolver;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using Stub = greeter::Greeter::Stub;

constexpr auto kSayHello = &Stub::SayHello;
class BalancedCallTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    registrar_ = std::make_unique<registry::Registrar>(
        *client_, registry::RegistrarOptions{.prefix = TestPrefix()});
    resolver_ =
        std::make_unique<Resolver>(*client_, resolver::ResolverOptions{.prefix = TestPrefix()});
  }
  void TearDown() override {
    registrations_.clear();
    servers_.clear();
  }

  // Starts `n` servers s0.. and registers them as service "greeter"; waits until the balancer
  // sees all.
  void StartServers(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> server,
                           TestGreeterServer::Start(absl::StrCat("s", i)));
      Register(server->id(), server->address());
      servers_.push_back(std::move(server));
    }
    ASSERT_OK_AND_ASSIGN(balancer_, resolver_->Balance("greeter"));
    ASSERT_TRUE(WaitUntil([&] { return balancer_->eligible() == registrations_.size(); },
                          absl::Seconds(10), absl::Milliseconds(5)));
  }
  void Register(const std::string& id, const std::string& address) {
    ASSERT_OK_AND_ASSIGN(
        registry::Registration registration,
        registrar_->Register({.service = "greeter", .id = id, .address = address}));
    registrations_.push_back(std::move(registration));
  }
  int TotalCalls() const {
    int calls = 0;
    for (const auto& server : servers_) calls += server->calls();
    return calls;
  }
  void SetAll(GreeterBehavior behavior) {
    for (const auto& server : servers_) server->set_behavior(behavior);
  }
  std::set<std::string> Addresses() const {
    std::set<std::string> addresses;
    for (const auto& server : servers_) addresses.insert(server->address());
    return addresses;
  }

  std::unique_ptr<registry::Registrar> registrar_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<TestGreeterServer>> servers_;
  std::vector<registry::Registration> registrations_;
  std::shared_ptr<Balancer> balancer_;
  greeter::HelloRequest request_;
};

bool AllDistinct(const std::vector<std::string>& tried) {
  return std::set<std::string>(tried.begin(), tried.end()).size() == tried.size();
}

TEST_F(BalancedCallTest, RetriesGoToAnotherEndpoint) {
  ASSERT_NO_FATAL_FAILURE(StartServers(3));
  servers_[0]->set_behavior(GreeterBehavior::kUnavailable);
  servers_[1]->set_behavior(GreeterBehavior::kUnavailable);
  BalancedStub<Stub> greeter(balancer_, SeedPolicy());
  for (int i = 0; i < 12; ++i) {
    greeter::HelloReply reply;
    CallResult result = greeter.Call(kSayHello, request_, &reply);
    ASSERT_OK(result.status) << "call " << i;
    EXPECT_EQ(reply.instance_id(), "s2");
    EXPECT_EQ(result.endpoint, servers_[2]->address());
    EXPECT_TRUE(AllDistinct(result.tried)) << absl::StrJoin(result.tried, ",");
    EXPECT_EQ(static_cast<int>(result.tried.size()), result.attempts);
    EXPECT_LE(result.attempts, 3);
  }
  // One stub per channel, not one per call.
  EXPECT_LE(greeter.cached_stubs(), 3u);
}

TEST_F(BalancedCallTest, SeedPolicyTriesEveryEndpointThenNamesTheLastFailure) {
  ASSERT_NO_FATAL_FAILURE(StartServers(3));
  SetAll(GreeterBehavior::kUnavailable);
  BalancedStub<Stub> greeter(balancer_, SeedPolicy());
  greeter::HelloReply reply;
  const absl::Time start = absl::Now();
  CallResult result = greeter.Call(kSayHello, request_, &reply);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.attempts, 4);
  ASSERT_EQ(result.tried.size(), 4u);
  // The first three are the three endpoints; the fourth repeats one.
  EXPECT_THAT(std::vector<std::string>(result.tried.begin(), result.tried.begin() + 3),
              UnorderedElementsAreArray(Addresses()));
  EXPECT_EQ(result.endpoint, result.tried.back());
  EXPECT_THAT(std::string(result.status.message()),
              HasSubstr(absl::StrCat("shedding on purpose [", result.endpoint,
                                     " /greeter.Greeter/SayHello attempt 4 of 4; tried ")));
  EXPECT_EQ(result.grpc_status.error_message(), "shedding on purpose");
  // Three linear backoffs of 100 ms.
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(TotalCalls(), 4);
}

TEST_F(BalancedCallTest, NonIdempotentCallIsNotRetriedAfterADeadline) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2));
  SetAll(GreeterBehavior::kSlow);
  CallPolicy policy;
  policy.retry.max_attempts = 2;
  policy.retry.retryable_codes = {grpc::StatusCode::UNAVAILABLE,
                                  grpc::StatusCode::DEADLINE_EXCEEDED};
  policy.retry.backoff = LinearBackoff(absl::Milliseconds(10));
  policy.attempt_timeout = absl::Milliseconds(150);
  policy.idempotent = false;
  BalancedStub<Stub> greeter(balancer_, policy);
  greeter::HelloReply reply;
  CallResult result = greeter.Call(kSayHello, request_, &reply);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_THAT(std::string(result.status.message()), HasSubstr("attempt 1 of 2"));

  // The same call, idempotent: retried on the other endpoint.
  policy.idempotent = true;
  result = greeter.Call(kSayHello, request_, &reply, policy);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.attempts, 2);
  EXPECT_THAT(result.tried, UnorderedElementsAreArray(Addresses()));
}

TEST_F(BalancedCallTest, NonIdempotentCallIsRetriedWhenItCouldNotConnect) {
  ASSERT_NO_FATAL_FAILURE(StartServers(1));
  const std::string dead = ClosedEndpoint();
  ASSERT_FALSE(dead.empty());
  Register("dead", dead);
  ASSERT_TRUE(WaitUntil([&] { return balancer_->eligible() == 2; }, absl::Seconds(10),
                        absl::Milliseconds(5)));
  CallPolicy policy;
  policy.idempotent = false;
  policy.retry.backoff = LinearBackoff(absl::Milliseconds(10));
  BalancedStub<Stub> greeter(balancer_, policy);
  int retried = 0;
  for (int i = 0; i < 6; ++i) {
    greeter::HelloReply reply;
    CallResult result = greeter.Call(kSayHello, request_, &reply);
    ASSERT_OK(result.status) << "call " << i;
    EXPECT_EQ(reply.instance_id(), "s0");
    if (result.attempts > 1) {
      ++retried;
      EXPECT_THAT(result.tried, ElementsAre(dead, servers_[0]->address()));
    }
  }
  EXPECT_GE(retried, 1);
}

// What NeverLeftClient relies on: gRPC 1.51's text when it cannot connect at all.
TEST(GrpcConnectFailure, MessageSaysItCouldNotConnect) {
  const std::string dead = ClosedEndpoint();
  ASSERT_FALSE(dead.empty());
  auto stub =
      greeter::Greeter::NewStub(grpc::CreateChannel(dead, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  greeter::HelloReply reply;
  grpc::Status status = stub->SayHello(&context, greeter::HelloRequest(), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("failed to connect to all addresses"));
}

TEST_F(BalancedCallTest, ResourceExhaustedIsRetriedOnlyWhenListed) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2));
  servers_[0]->set_behavior(GreeterBehavior::kResourceExhausted);
  servers_[1]->set_behavior(GreeterBehavior::kResourceExhausted);
  BalancedStub<Stub> greeter(balancer_, SeedPolicy());
  greeter::HelloReply reply;
  CallResult result = greeter.Call(kSayHello, request_, &reply);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(result.attempts, 1);

  servers_[1]->set_behavior(GreeterBehavior::kOk);
  CallPolicy policy = SeedPolicy();
  policy.retry.retryable_codes.push_back(grpc::StatusCode::RESOURCE_EXHAUSTED);
  for (int i = 0; i < 4; ++i) {
    result = greeter.Call(kSayHello, request_, &reply, policy);
    ASSERT_OK(result.status);
    EXPECT_EQ(reply.instance_id(), "s1");
    EXPECT_TRUE(AllDistinct(result.tried));
  }
}

TEST_F(BalancedCallTest, OverallDeadlineBoundsEverything) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2));
  SetAll(GreeterBehavior::kSlow);
  CallPolicy policy;
  policy.idempotent = true;
  policy.retry.max_attempts = 10;
  policy.retry.retryable_codes = {grpc::StatusCode::UNAVAILABLE,
                                  grpc::StatusCode::DEADLINE_EXCEEDED};
  policy.retry.backoff = LinearBackoff(absl::Milliseconds(20));
  policy.attempt_timeout = absl::Milliseconds(200);
  policy.overall_timeout = absl::Milliseconds(500);
  BalancedStub<Stub> greeter(balancer_, policy);
  greeter::HelloReply reply;
  absl::Time start = absl::Now();
  CallResult result = greeter.Call(kSayHello, request_, &reply);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));
  EXPECT_GE(result.attempts, 2);
  EXPECT_LT(result.attempts, 10);

  // The callback form, with hedging, too.
  policy.hedging = HedgingPolicy{.delay = absl::Milliseconds(50), .max_in_flight = 3};
  start = absl::Now();
  result = greeter.Call(kSayHelloAsync, request_, &reply, policy);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));

  // No endpoint at all: not Pick()'s 5 s wait, the overall timeout.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> nobody, resolver_->Balance("nobody"));
  BalancedStub<Stub> none(nobody, policy);
  policy.hedging.reset();
  start = absl::Now();
  result = none.Call(kSayHello, request_, &reply, policy);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(result.status.message()), HasSubstr("no endpoint"));
  EXPECT_THAT(std::string(result.status.message()), HasSubstr("/greeter.Greeter/SayHello"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));
  start = absl::Now();
  result = none.Call(kSayHelloAsync, request_, &reply, policy);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));
}

// An attempt the overall deadline cut short says nothing about its endpoint:
// a tight budget against slow but healthy servers ejects neither.
TEST_F(BalancedCallTest, AttemptsCutShortByTheOverallDeadlineDoNotCount) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2));
  SetAll(GreeterBehavior::kSlow);
  for (const auto& server : servers_) server->set_slow_for(absl::Milliseconds(500));
  CallPolicy policy;
  policy.retry.max_attempts = 1;
  policy.attempt_timeout = absl::Seconds(1);
  policy.overall_timeout = absl::Milliseconds(40);
  BalancedStub<Stub> greeter(balancer_, policy);
  for (int i = 0; i < 12; ++i) {  // 6 per server; 5 failures in a row would eject
    greeter::HelloReply reply;
    CallResult result = greeter.Call(kSayHello, request_, &reply);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded) << result.status;
  }
  for (const resolver::EndpointStats& stats : balancer_->endpoint_stats()) {
    EXPECT_FALSE(stats.ejected) << stats.address;
    EXPECT_EQ(stats.failures, 0) << stats.address;
  }
  // An attempt that had its whole timeout does count.
  policy.attempt_timeout = absl::Milliseconds(40);
  policy.overall_timeout = absl::Seconds(1);
  BalancedStub<Stub> full(balancer_, policy);
  greeter::HelloReply reply;
  EXPECT_EQ(full.Call(kSayHello, request_, &reply).status.code(),
            absl::StatusCode::kDeadlineExceeded);
  int64_t failures = 0;
  for (const resolver::EndpointStats& stats : balancer_->endpoint_stats()) {
    failures += stats.failures;
  }
  EXPECT_EQ(failures, 1);
}

TEST_F(BalancedCallTest, HedgingSendsASecondAttemptAndCancelsTheLoser) {
  ASSERT_NO_FATAL_FAILURE(StartServers(3));
  // Only the first call to reach any server is slow.
  auto budget = std::make_shared<std::atomic<int>>(1);
  for (const auto& server : servers_) {
    server->set_behavior(GreeterBehavior::kSlow);
    server->set_slow_for(absl::Seconds(3));
    server->set_slow_budget(budget);
  }
  CallPolicy policy = SeedPolicy();
  policy.attempt_timeout = absl::Seconds(4);
  policy.hedging = HedgingPolicy{.delay = absl::Milliseconds(100), .max_in_flight = 2};
  BalancedStub<Stub> greeter(balancer_, policy);
  greeter::HelloReply reply;
  const absl::Time start = absl::Now();
  CallResult result = greeter.Call(kSayHelloAsync, request_, &reply);
  const absl::Duration took = absl::Now() - start;
  ASSERT_OK(result.status);
  EXPECT_EQ(result.attempts, 2);
  ASSERT_EQ(result.tried.size(), 2u);
  EXPECT_NE(result.tried[0], result.tried[1]);
  EXPECT_EQ(result.endpoint, result.tried[1]);
  EXPECT_EQ(reply.instance_id().empty(), false);
  EXPECT_GE(took, absl::Milliseconds(100));
  EXPECT_LT(took, absl::Seconds(1));
  // The first attempt was cancelled on its server (the callback comes after it ended).
  int cancelled = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        cancelled = 0;
        for (const auto& server : servers_) cancelled += server->cancelled();
        return cancelled == 1;
      },
      absl::Seconds(2), absl::Milliseconds(5)));

  // Hedging needs the callback method and an idempotent call.
  result = greeter.Call(kSayHello, request_, &reply);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  policy.idempotent = false;
  result = greeter.Call(kSayHelloAsync, request_, &reply, policy);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BalancedCallTest, AsyncFormCallsBackExactlyOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServers(3));
  servers_[0]->set_behavior(GreeterBehavior::kUnavailable);
  servers_[1]->set_behavior(GreeterBehavior::kResourceExhausted);
  CallPolicy policy = SeedPolicy();
  policy.retry.backoff = LinearBackoff(absl::Milliseconds(5));
  BalancedStub<Stub> greeter(balancer_, policy);
  constexpr int kCalls = 60;
  struct Slot {
    greeter::HelloReply reply;
    std::atomic<int> callbacks{0};
    absl::Status status;
  };
  std::vector<Slot> slots(kCalls);
  internal::WaitGroup all;
  all.Add(kCalls);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller_thread{0};
  for (int i = 0; i < kCalls; ++i) {
    Slot& slot = slots[static_cast<size_t>(i)];
    greeter.CallAsync(kSayHelloAsync, request_, &slot.reply,
                      [&slot, &all, &on_caller_thread, caller, i](CallResult result) {
                        if (std::this_thread::get_id() == caller) on_caller_thread.fetch_add(1);
                        slot.status = result.status;
                        slot.callbacks.fetch_add(1);
                        all.Done();
                        // A callback that throws harms no other call.
                        if (i % 7 == 0) throw std::runtime_error("on purpose");
                      });
  }
  ASSERT_TRUE(all.WaitUntil(internal::MonoNow() + absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(200));  // no second call of any callback
  int ok = 0;
  for (const Slot& slot : slots) {
    EXPECT_EQ(slot.callbacks.load(), 1);
    if (slot.status.ok()) {
      ++ok;
      EXPECT_EQ(slot.reply.instance_id(), "s2");
    } else {
      EXPECT_EQ(slot.status.code(), absl::StatusCode::kResourceExhausted) << slot.status;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_EQ(on_caller_thread.load(), 0);
}

// A caller may drop everything, its client included, as soon as its last callback ran; the
// callback is still on gRPC's thread then, and the call then holds the last references to the
// endpoint's channel. gRPC 1.51 frees its process-wide callback queue when the last channel
// that used it is destroyed, and does so under the thread that destroys it: the call must not
// free its channel references on the callback's thread (before the fix: ASan double free in
// grpc_cq_internal_unref, or a crash, when the callback returned). Each round's callback waits
// until the round has dropped everything. No other client or server may live in this process
// meanwhile (the shared fixture's client is per test).
TEST(BalancedCallTeardown, EverythingDroppedWhileTheLastCallbackRuns) {
  LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  greeter::HelloRequest request;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    // Its health service is a callback service (gRPC's default one): it holds the queue too.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> server, TestGreeterServer::Start("s0"));
    std::unique_ptr<Client> client = ConnectTo(etcd->ClientEndpoints());
    ASSERT_NE(client, nullptr);
    auto registrar = std::make_unique<registry::Registrar>(
        *client, registry::RegistrarOptions{.prefix = TestPrefix()});
    ASSERT_OK_AND_ASSIGN(
        registry::Registration registration,
        registrar->Register({.service = "greeter", .id = "s0", .address = server->address()}));
    auto resolver =
        std::make_unique<Resolver>(*client, resolver::ResolverOptions{.prefix = TestPrefix()});
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> balancer, resolver->Balance("greeter"));
    ASSERT_TRUE(WaitUntil([&] { return balancer->eligible() == 1; }, absl::Seconds(10),
                          absl::Milliseconds(5)));
    auto greeter = std::make_unique<BalancedStub<Stub>>(balancer);
    struct Round {
      greeter::HelloReply reply;
      absl::Status status = absl::UnknownError("no callback");
      internal::Notification called;
      internal::Notification dropped;
    };
    auto state = std::make_shared<Round>();
    greeter->CallAsync(kSayHelloAsync, request, &state->reply, [state](CallResult result) {
      state->status = result.status;
      state->called.Notify();
      (void)state->dropped.WaitForNotificationWithTimeout(absl::Seconds(10));
    });
    ASSERT_TRUE(state->called.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_OK(state->status);
    greeter.reset();
    balancer.reset();
    resolver.reset();
    registration = registry::Registration();
    registrar.reset();
    client.reset();
    server.reset();
    state->dropped.Notify();
    absl::SleepFor(absl::Milliseconds(100));  // the callback returns, the call is freed
  }
}

TEST_F(BalancedCallTest, BadPoliciesAreRefusedBeforeAnyCall) {
  ASSERT_NO_FATAL_FAILURE(StartServers(1));
  std::vector<std::pair<std::string, CallPolicy>> bad;
  auto add = [&](const std::string& field, auto change) {
    CallPolicy policy;
    change(policy);
    bad.emplace_back(field, policy);
  };
  add("retry.max_attempts", [](CallPolicy& p) { p.retry.max_attempts = 0; });
  add("retry.max_attempts", [](CallPolicy& p) { p.retry.max_attempts = -3; });
  add("retry.backoff.initial",
      [](CallPolicy& p) { p.retry.backoff = LinearBackoff(absl::Milliseconds(-100)); });
  add("retry.backoff.max", [](CallPolicy& p) { p.retry.backoff.max = absl::InfiniteDuration(); });
  add("retry.backoff.multiplier", [](CallPolicy& p) { p.retry.backoff.multiplier = 0.5; });
  add("retry.backoff.jitter", [](CallPolicy& p) { p.retry.backoff.jitter = 2; });
  add("retry.retryable_codes",
      [](CallPolicy& p) { p.retry.retryable_codes.push_back(grpc::StatusCode::OK); });
  add("attempt_timeout", [](CallPolicy& p) { p.attempt_timeout = absl::ZeroDuration(); });
  add("overall_timeout", [](CallPolicy& p) { p.overall_timeout = absl::Seconds(-1); });
  add("hedging", [](CallPolicy& p) { p.hedging = HedgingPolicy{}; });
  add("hedging.delay", [](CallPolicy& p) {
    p.idempotent = true;
    p.hedging = HedgingPolicy{.delay = absl::Milliseconds(-1)};
  });
  add("hedging.max_in_flight", [](CallPolicy& p) {
    p.idempotent = true;
    p.hedging = HedgingPolicy{.max_in_flight = 0};
  });
  BalancedStub<Stub> greeter(balancer_);
  for (const auto& [field, policy] : bad) {
    EXPECT_THAT(std::string(resolver::ValidateCallPolicy(policy).message()),
                HasSubstr("CallPolicy." + field));
    greeter::HelloReply reply;
    if (!policy.hedging.has_value()) {
      CallResult result = greeter.Call(kSayHello, request_, &reply, policy);
      EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument) << field;
      EXPECT_EQ(result.attempts, 0);
    }
    CallResult result = greeter.Call(kSayHelloAsync, request_, &reply, policy);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(result.status.message()), HasSubstr("CallPolicy." + field));
  }
  EXPECT_EQ(TotalCalls(), 0);
  // And the default policy is valid and works.
  EXPECT_OK(resolver::ValidateCallPolicy(CallPolicy{}));
  greeter::HelloReply reply;
  EXPECT_OK(greeter.Call(kSayHello, request_, &reply).status);
  EXPECT_EQ(TotalCalls(), 1);
}

}  // namespace
}  // namespace etcdgrpc::testing
