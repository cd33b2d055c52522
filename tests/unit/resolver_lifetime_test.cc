// Destruction orders that need no etcd (ASan reports any use after free): a
// Resolver destroyed while its channel health poll runs, the channel pool
// dropped while polls are due, and picks outliving their balancer and pool.
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "common/scheduler.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/resolver/resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/channel_pool.h"
#include "status_matchers.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::testing::IsOk;

// A client that never connects (nothing listens on port 1 and there is no
// dial time-out); the resolver below never calls it.
std::unique_ptr<Client> Unconnected() {
  ClientOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.dial_timeout = absl::ZeroDuration();
  options.request_timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_THAT(client, IsOk());
  return client.ok() ? *std::move(client) : nullptr;
}

std::shared_ptr<const Endpoint> MakeEndpoint(const std::string& id) {
  auto endpoint = std::make_shared<Endpoint>();
  endpoint->key = "/services/svc/" + id;
  endpoint->instance.service = "svc";
  endpoint->instance.id = id;
  endpoint->instance.address = "127.0.0.1:1";
  return endpoint;
}

TEST(ResolverLifetimeTest, DestroyedWhileItsChannelPollRuns) {
  std::unique_ptr<Client> client = Unconnected();
  ASSERT_NE(client, nullptr);
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    // Polls back to back: one is running whenever the resolver goes away.
    Resolver resolver(*client, {.health_poll_interval = absl::Microseconds(1)});
    absl::SleepFor(absl::Microseconds(random() % 2000));
  }
}

TEST(ResolverLifetimeTest, PollsEndWhenThePoolIsGone) {
  internal::Scheduler scheduler;
  for (int i = 0; i < 100; ++i) {
    auto pool = std::make_shared<internal::ChannelPool>(
        grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), absl::Microseconds(1));
    internal::ChannelPool::StartPolling(pool, &scheduler);
    std::shared_ptr<internal::ChannelEntry> entry = pool->Get("127.0.0.1:1");
    ASSERT_NE(entry->channel(), nullptr);
    absl::SleepFor(absl::Microseconds(500));
    // The entry keeps the pool alive; the polls end with the last of them.
    pool.reset();
    absl::SleepFor(absl::Microseconds(500));
    entry.reset();
  }
  scheduler.Shutdown();
}

TEST(ResolverLifetimeTest, PickOutlivesItsBalancerAndPool) {
  std::optional<PickResult> pick;
  {
    auto pool = std::make_shared<internal::ChannelPool>(grpc::InsecureChannelCredentials(),
                                                        grpc::ChannelArguments(), absl::Hours(1));
    auto balancer = std::make_shared<internal::BalancerCore>("svc", BalancerOptions{}, pool);
    EndpointSet set;
    set.service = "svc";
    set.revision = 3;
    set.endpoints = {MakeEndpoint("a")};
    balancer->Update(set);
    absl::StatusOr<PickResult> picked = balancer->Pick();
    ASSERT_THAT(picked, IsOk());
    pick.emplace(*std::move(picked));
  }
  // The channel is made only now, by the pool the pick keeps alive.
  EXPECT_EQ(pick->endpoint().instance.id, "a");
  EXPECT_NE(pick->channel(), nullptr);
  pick->Done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  pick.reset();
}

}  // namespace
}  // namespace etcdgrpc::resolver
