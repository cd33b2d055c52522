// The balancing channel on real etcd and real gRPC servers: calls spread
// over the registered addresses and follow registrations, a channel handed
// out earlier keeps its addresses until dropped, 1,000 rebuilds from etcd
// changes leak no connection (counted with ss), host names, empty services,
// mixed IPv4/IPv6, gRPC health checks and retries.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"
#include "gmock/gmock.h"
#include "greeter.grpc.pb.h"
#include "greeter_test_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "wait_until.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::registry::Registrar;
using ::etcdgrpc::registry::RegistrarOptions;
using ::etcdgrpc::registry::Registration;
using ::etcdgrpc::registry::ServiceInstance;
using ::etcdgrpc::testing::GreeterBehavior;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::TestGreeterServer;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kHealthName[] = "greeter.Greeter";

// One call; the id of the backend that answered, or the call's status.
absl::StatusOr<std::string> Hello(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& name = "x",
                                  absl::Duration deadline = absl::Seconds(3)) {
  auto stub = greeter::Greeter::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  greeter::HelloRequest request;
  request.set_name(name);
  greeter::HelloReply reply;
  grpc::Status status = stub->SayHello(&context, request, &reply);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return reply.instance_id();
}

// The ids answering `calls` calls (failures as "!" + status).
std::map<std::string, int> Spread(const std::shared_ptr<grpc::Channel>& channel, int calls,
                                  const std::string& name = "x") {
  std::map<std::string, int> ids;
  for (int i = 0; i < calls; ++i) {
    absl::StatusOr<std::string> id = Hello(channel, name);
    ++ids[id.ok() ? *id : absl::StrCat("!", id.status().ToString())];
  }
  return ids;
}

// Established TCP connections of this process to `ports` (the client side:
// the peer is the server's port), counted with ss.
int ConnectionsTo(const std::set<int>& ports) {
  FILE* ss = popen("ss -tnpH state established 2>/dev/null", "r");
  if (ss == nullptr) return -1;
  const std::string ours = absl::StrCat("pid=", getpid(), ",");
  int count = 0;
  char line[1024];
  while (fgets(line, sizeof line, ss) != nullptr) {
    std::istringstream fields(line);
    std::string recv_q, send_q, local, peer, process;
    if (!(fields >> recv_q >> send_q >> local >> peer >> process)) continue;
    if (!absl::StrContains(process, ours)) continue;
    const int port = std::atoi(peer.substr(peer.rfind(':') + 1).c_str());
    if (ports.count(port) > 0) ++count;
  }
  return pclose(ss) == 0 ? count : -1;
}

class BalancingChannelTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    registrar_ = std::make_unique<Registrar>(
        *client_, RegistrarOptions{.prefix = TestPrefix(), .ttl = absl::Seconds(30)});
    resolver_ = std::make_unique<Resolver>(*client_, ResolverOptions{.prefix = TestPrefix()});
  }
  void TearDown() override {
    registrations_.clear();
    resolver_.reset();
    registrar_.reset();
  }

  Registration Register(const std::string& service, const std::string& id,
                        const std::string& address) {
    absl::StatusOr<Registration> registration = registrar_->Register(
        ServiceInstance{.service = service, .id = id, .address = address, .metadata = {}});
    EXPECT_THAT(registration, IsOk());
    return registration.ok() ? std::move(*registration) : Registration();
  }
  void Keep(const std::string& service, const TestGreeterServer& backend) {
    registrations_.push_back(Register(service, backend.id(), backend.address()));
  }
  // Calls until every one of `ids` answered (bounded): gRPC's round_robin
  // sends calls only to addresses already connected.
  static bool Reaches(const std::shared_ptr<grpc::Channel>& channel,
                      const std::set<std::string>& ids) {
    std::set<std::string> seen;
    return WaitUntil(
        [&] {
          absl::StatusOr<std::string> id = Hello(channel);
          if (id.ok()) seen.insert(*id);
          return seen == ids;
        },
        absl::Seconds(5), absl::Milliseconds(1));
  }

  std::unique_ptr<Registrar> registrar_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<Registration> registrations_;
};

TEST_F(BalancingChannelTest, SpreadsCallsAndFollowsRegistrations) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> b, TestGreeterServer::Start("b"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> c, TestGreeterServer::Start("c"));
  Keep("greeter", *a);
  Keep("greeter", *b);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  BalancingChannel& balancing = **channel;
  EXPECT_THAT(balancing.status(), IsOk());
  EXPECT_TRUE(absl::StartsWith(balancing.target(), "ipv4:127.0.0.1:"));
  ASSERT_TRUE(Reaches(balancing.get(), {"a", "b"}));
  // Once both are connected, round robin alternates.
  std::map<std::string, int> spread = Spread(balancing.get(), 10);
  EXPECT_EQ(spread, (std::map<std::string, int>{{"a", 5}, {"b", 5}}));

  Registration third = Register("greeter", "c", c->address());
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(balancing.target(), c->address()); },
                        absl::Seconds(5)));
  EXPECT_EQ(balancing.stats().rebuilds, 1u);
  EXPECT_TRUE(Reaches(balancing.get(), {"a", "b", "c"}));

  // Metadata only: the same addresses, the same channel.
  const std::shared_ptr<grpc::Channel> before = balancing.get();
  ASSERT_THAT(third.Update({{"version", "v2"}}), IsOk());
  ASSERT_THAT(third.Deregister(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return !absl::StrContains(balancing.target(), c->address()); },
                        absl::Seconds(5)));
  EXPECT_EQ(balancing.stats().rebuilds, 2u);
  EXPECT_NE(balancing.get(), before);
  EXPECT_EQ(Spread(balancing.get(), 20).count("c"), 0u);
}

TEST_F(BalancingChannelTest, MetadataChangesMakeNoNewChannel) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  Registration registration = Register("greeter", "a", a->address());
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  absl::StatusOr<std::shared_ptr<ServiceView>> view = resolver_->Watch("greeter");
  ASSERT_THAT(view, IsOk());
  const std::shared_ptr<grpc::Channel> first = (*channel)->get();
  const int64_t revision = (*view)->snapshot()->revision;
  ASSERT_THAT(registration.Update({{"zone", "z2"}}), IsOk());
  ASSERT_TRUE(
      WaitUntil([&] { return (*view)->snapshot()->revision > revision; }, absl::Seconds(5)));
  // The channel heard the same update on the resolver's listener thread.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ((*channel)->get(), first);
  EXPECT_EQ((*channel)->stats().rebuilds, 0u);
}

TEST_F(BalancingChannelTest, ChannelHandedOutEarlierKeepsItsAddressesUntilDropped) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> d, TestGreeterServer::Start("d"));
  Keep("greeter", *a);
  Registration leaving = Register("greeter", "d", d->address());
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  std::shared_ptr<grpc::Channel> old = (*channel)->get();
  ASSERT_TRUE(Reaches(old, {"a", "d"}));
  ASSERT_THAT(leaving.Deregister(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return (*channel)->get() != old; }, absl::Seconds(5)));

  // The old channel still calls d; the new one does not.
  EXPECT_EQ(Spread(old, 10).count("d"), 1u);
  EXPECT_EQ(Spread((*channel)->get(), 10), (std::map<std::string, int>{{"a", 10}}));
  EXPECT_EQ(ConnectionsTo({d->port()}), 1);
  // Dropped by its last holder (the balancing channel let it go after
  // retire_delay), it closes its connection to d.
  old.reset();
  EXPECT_TRUE(WaitUntil([&] { return ConnectionsTo({d->port()}) == 0; }, absl::Seconds(5)));
  EXPECT_EQ(ConnectionsTo({a->port()}), 1);
}

TEST_F(BalancingChannelTest, OutlivesTheResolver) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  Keep("greeter", *a);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  ASSERT_TRUE(Reaches((*channel)->get(), {"a"}));
  resolver_.reset();
  // It keeps its last channel, as balancers keep their last table.
  EXPECT_TRUE(Reaches((*channel)->get(), {"a"}));
  EXPECT_THAT((*channel)->status(), IsOk());
  channel->reset();
}

// Four servers: a, b and c stay registered, d comes and goes.
struct Fleet {
  static absl::StatusOr<Fleet> Start() {
    Fleet fleet;
    for (auto [server, id] :
         {std::pair{&fleet.a, "a"}, {&fleet.b, "b"}, {&fleet.c, "c"}, {&fleet.d, "d"}}) {
      absl::StatusOr<std::unique_ptr<TestGreeterServer>> started = TestGreeterServer::Start(id);
      if (!started.ok()) return started.status();
      *server = *std::move(started);
    }
    return fleet;
  }
  std::set<int> ports() const { return {a->port(), b->port(), c->port(), d->port()}; }
  std::string Connections() const {
    return absl::StrCat(ConnectionsTo(ports()), " connections: a ", ConnectionsTo({a->port()}),
                        ", b ", ConnectionsTo({b->port()}), ", c ", ConnectionsTo({c->port()}),
                        ", d ", ConnectionsTo({d->port()}));
  }

  std::unique_ptr<TestGreeterServer> a, b, c, d;
};

// `cycles` times: registers d, waits for the channel to include it, calls
// through it, deregisters d, waits, calls: two rebuilds per cycle, from
// etcd. Reports the most connections seen to the fleet (sampled).
struct ChurnResult {
  int calls = 0;
  int failed = 0;
  int most = 0;
  uint64_t rebuilds = 0;
  absl::Duration took;
};

class BalancingChannelChurnTest : public BalancingChannelTest {
 protected:
  void Churn(BalancingChannel& channel, const Fleet& fleet, int cycles, ChurnResult& result) {
    const absl::Time start = absl::Now();
    const uint64_t rebuilds_before = channel.stats().rebuilds;
    auto call = [&] {
      ++result.calls;
      if (!Hello(channel.get()).ok()) ++result.failed;
    };
    const std::string& d = fleet.d->address();
    for (int i = 0; i < cycles; ++i) {
      Registration joined = Register("greeter", "d", d);
      ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(channel.target(), d); },
                            absl::Seconds(5), absl::Microseconds(200)));
      call();
      ASSERT_THAT(joined.Deregister(), IsOk());
      ASSERT_TRUE(WaitUntil([&] { return !absl::StrContains(channel.target(), d); },
                            absl::Seconds(5), absl::Microseconds(200)));
      call();
      if (i % 25 == 24) result.most = std::max(result.most, ConnectionsTo(fleet.ports()));
    }
    result.took = absl::Now() - start;
    result.rebuilds = channel.stats().rebuilds - rebuilds_before;
  }
};

// The leak check: 1,000 rebuilds, each from a registration or a
// deregistration in etcd, with calls through the channel in between; the
// process's connections to the servers stay bounded and come back to the
// steady state.
TEST_F(BalancingChannelChurnTest, ThousandRebuildsLeakNoConnections) {
  ASSERT_OK_AND_ASSIGN(Fleet fleet, Fleet::Start());
  for (const TestGreeterServer* backend : {fleet.a.get(), fleet.b.get(), fleet.c.get()}) {
    Keep("greeter", *backend);
  }
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  ASSERT_TRUE(Reaches((*channel)->get(), {"a", "b", "c"}));
  ASSERT_TRUE(WaitUntil([&] { return ConnectionsTo(fleet.ports()) == 3; }, absl::Seconds(5)))
      << fleet.Connections();

  ChurnResult churn;
  ASSERT_NO_FATAL_FAILURE(Churn(**channel, fleet, 500, churn));
  EXPECT_EQ(churn.rebuilds, 1000u);
  EXPECT_EQ(churn.failed, 0) << "of " << churn.calls;
  // A connection to each of the 4 servers (addresses that stay share theirs
  // across channels), now and then a second one while gRPC replaces its
  // shared subchannel of an address; no growth with the rebuilds.
  EXPECT_LE(churn.most, 10);
  EXPECT_TRUE(WaitUntil([&] { return ConnectionsTo(fleet.ports()) == 3; }, absl::Seconds(5)))
      << fleet.Connections() << " after 1,000 rebuilds";
  EXPECT_TRUE(Reaches((*channel)->get(), {"a", "b", "c"}));
  std::printf(
      "1,000 rebuilds from etcd, %d calls: %.2f s (%.2f ms a rebuild); most connections %d\n",
      churn.calls, absl::ToDoubleSeconds(churn.took), absl::ToDoubleMilliseconds(churn.took) / 1000,
      churn.most);
}

// The same with a subchannel pool per channel (a channel argument users may
// set): every rebuild opens new connections to every server and the
// replaced channels must close all of theirs.
TEST_F(BalancingChannelChurnTest, ChannelsWithTheirOwnConnectionsCloseThemAll) {
  ASSERT_OK_AND_ASSIGN(Fleet fleet, Fleet::Start());
  for (const TestGreeterServer* backend : {fleet.a.get(), fleet.b.get(), fleet.c.get()}) {
    Keep("greeter", *backend);
  }
  grpc::ChannelArguments own_pool;
  own_pool.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  Resolver resolver(*client_,
                    ResolverOptions{.prefix = TestPrefix(), .channel_arguments = own_pool});
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel =
      resolver.Channel("greeter", ChannelOptions{.retire_delay = absl::Milliseconds(200)});
  ASSERT_THAT(channel, IsOk());
  ASSERT_TRUE(Reaches((*channel)->get(), {"a", "b", "c"}));

  ChurnResult churn;
  ASSERT_NO_FATAL_FAILURE(Churn(**channel, fleet, 150, churn));
  EXPECT_EQ(churn.rebuilds, 300u);
  EXPECT_EQ(churn.failed, 0) << "of " << churn.calls;
  EXPECT_GT(churn.most, 4) << "the channels kept for retire_delay have connections of their own";
  EXPECT_TRUE(WaitUntil([&] { return ConnectionsTo(fleet.ports()) == 3; }, absl::Seconds(5)))
      << fleet.Connections() << " after 300 rebuilds";
  std::printf("300 rebuilds with a subchannel pool each: %.2f s; most connections %d\n",
              absl::ToDoubleSeconds(churn.took), churn.most);
}

TEST_F(BalancingChannelTest, HostNamesAreAClearError) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  Registration named = Register("named", "h1", absl::StrCat("localhost:", a->port()));
  absl::StatusOr<std::shared_ptr<BalancingChannel>> refused = resolver_->Channel("named");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("IP addresses only"));
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("/named/h1 (localhost:", a->port(), ")")));
  // Picks take host names.
  absl::StatusOr<std::shared_ptr<Balancer>> balancer = resolver_->Balance("named");
  ASSERT_THAT(balancer, IsOk());
  EXPECT_THAT((*balancer)->Pick(), IsOk());

  // One that joins later is left out; the others go on.
  Keep("greeter", *a);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("greeter");
  ASSERT_THAT(channel, IsOk());
  Registration later = Register("greeter", "h2", "db.invalid:1");
  ASSERT_TRUE(WaitUntil([&] { return !(*channel)->stats().left_out.empty(); }, absl::Seconds(5)));
  EXPECT_THAT((*channel)->stats().left_out[0], HasSubstr("/greeter/h2 (db.invalid:1)"));
  EXPECT_EQ((*channel)->stats().rebuilds, 0u);
  EXPECT_THAT(Hello((*channel)->get()), IsOk());

  // Only host names left: calls fail at once, naming the limit.
  registrations_.clear();
  ASSERT_TRUE(WaitUntil([&] { return !(*channel)->status().ok(); }, absl::Seconds(5)));
  absl::StatusOr<std::string> call = Hello((*channel)->get());
  EXPECT_EQ(call.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(call.status().message(), HasSubstr("IP addresses only"));
}

TEST_F(BalancingChannelTest, EmptyServiceFailsFastNamingIt) {
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("nobody");
  ASSERT_THAT(channel, IsOk());
  EXPECT_EQ((*channel)->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*channel)->target(), "");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> call = Hello((*channel)->get(), "x", absl::Seconds(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(call.status().message(), HasSubstr("service \"nobody\" has no endpoint"));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  Keep("nobody", *a);
  EXPECT_THAT((*channel)->WaitForEndpoints(absl::Seconds(5)), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return (*channel)->status().ok(); }, absl::Seconds(5)));
  EXPECT_TRUE(Reaches((*channel)->get(), {"a"}));
}

TEST_F(BalancingChannelTest, MixedIpv4AndIpv6InOneTarget) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> v4, TestGreeterServer::Start("v4"));
  absl::StatusOr<std::unique_ptr<TestGreeterServer>> v6 = TestGreeterServer::Start("v6", "::1");
  if (!v6.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << v6.status();
  Keep("mixed", *v4);
  Keep("mixed", **v6);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel = resolver_->Channel("mixed");
  ASSERT_THAT(channel, IsOk());
  EXPECT_TRUE(absl::StartsWith((*channel)->target(), "ipv6:")) << (*channel)->target();
  EXPECT_THAT((*channel)->target(), HasSubstr("[::ffff:127.0.0.1]:"));
  EXPECT_TRUE(Reaches((*channel)->get(), {"v4", "v6"}));
}

TEST_F(BalancingChannelTest, HealthChecksKeepCallsOffNotServingServers) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> b, TestGreeterServer::Start("b"));
  Keep("greeter", *a);
  Keep("greeter", *b);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> channel =
      resolver_->Channel("greeter", ChannelOptions{.health_check_service = kHealthName});
  ASSERT_THAT(channel, IsOk());
  ASSERT_TRUE(Reaches((*channel)->get(), {"a", "b"}));
  b->SetServing(kHealthName, false);
  // gRPC's Watch stream tells the channel within moments.
  ASSERT_TRUE(
      WaitUntil([&] { return Spread((*channel)->get(), 4).count("b") == 0; }, absl::Seconds(5)));
  EXPECT_EQ(Spread((*channel)->get(), 20), (std::map<std::string, int>{{"a", 20}}));
  b->SetServing(kHealthName, true);
  EXPECT_TRUE(Reaches((*channel)->get(), {"a", "b"}));

  // A service name the servers do not know: calls fail at once, no stall.
  absl::StatusOr<std::shared_ptr<BalancingChannel>> unknown =
      resolver_->Channel("greeter", ChannelOptions{.health_check_service = "no.such.Service"});
  ASSERT_THAT(unknown, IsOk());
  std::shared_ptr<grpc::Channel> failing = (*unknown)->get();
  ASSERT_TRUE(WaitUntil([&] { return failing->GetState(true) == GRPC_CHANNEL_TRANSIENT_FAILURE; },
                        absl::Seconds(5)));
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> call = Hello(failing, "x", absl::Seconds(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable) << call.status();
}

TEST_F(BalancingChannelTest, RetryPolicyRetriesOnAnotherServer) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> a, TestGreeterServer::Start("a"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> b, TestGreeterServer::Start("b"));
  b->set_behavior_for("flaky", GreeterBehavior::kUnavailable);
  Keep("greeter", *a);
  Keep("greeter", *b);
  absl::StatusOr<std::shared_ptr<BalancingChannel>> plain = resolver_->Channel("greeter");
  ASSERT_THAT(plain, IsOk());
  ASSERT_TRUE(Reaches((*plain)->get(), {"a", "b"}));
  EXPECT_EQ(Spread((*plain)->get(), 10, "flaky").size(), 2u) << "half of them fail";

  absl::StatusOr<std::shared_ptr<BalancingChannel>> retrying = resolver_->Channel(
      "greeter",
      ChannelOptions{.retry = ChannelRetryPolicy{.max_attempts = 3,
                                                 .initial_backoff = absl::Milliseconds(10),
                                                 .max_backoff = absl::Milliseconds(50),
                                                 .methods = {"greeter.Greeter/SayHello"}}});
  ASSERT_THAT(retrying, IsOk());
  ASSERT_TRUE(Reaches((*retrying)->get(), {"a", "b"}));
  EXPECT_EQ(Spread((*retrying)->get(), 20, "flaky"), (std::map<std::string, int>{{"a", 20}}));

  absl::StatusOr<std::shared_ptr<BalancingChannel>> bad =
      resolver_->Channel("greeter", ChannelOptions{.retry = ChannelRetryPolicy{.max_attempts = 0}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("max_attempts is 0"));
}

}  // namespace
}  // namespace etcdgrpc::resolver
