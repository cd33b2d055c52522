// LocalEtcd's fault proxies on a real 3-member cluster: clients through the proxies, a
// black-holed and a delayed client endpoint, and a member partitioned from its peers (a
// follower, and the leader) losing its leader while the others go on, then catching up.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "etcdserverpb/rpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "status_matchers.h"

namespace etcdgrpc::testing {
namespace {

using ::testing::Contains;
using ::testing::Ne;

// A channel of its own (no shared subchannel), so a broken connection of one check does not
// leak into the next.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

grpc::Status Status(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
                    etcdserverpb::StatusResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return etcdserverpb::Maintenance::NewStub(channel)->Status(&context, {}, response);
}

grpc::Status Range(const std::shared_ptr<grpc::Channel>& channel, const std::string& key,
                   absl::Duration timeout, etcdserverpb::RangeResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  etcdserverpb::RangeRequest request;
  request.set_key(key);  // linearizable (serializable = false)
  return etcdserverpb::KV::NewStub(channel)->Range(&context, request, response);
}

grpc::Status Put(const std::shared_ptr<grpc::Channel>& channel, const std::string& key,
                 const std::string& value, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  return etcdserverpb::KV::NewStub(channel)->Put(&context, request, &response);
}

std::unique_ptr<LocalEtcd> StartCluster() {
  LocalEtcdOptions options;
  options.members = 3;
  options.fault_proxies = true;
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(options);
  EXPECT_THAT(etcd, IsOk());
  return etcd.ok() ? *std::move(etcd) : nullptr;
}

// Status of the member on its direct port; nullopt if it does not answer in time.
std::optional<etcdserverpb::StatusResponse> DirectStatus(LocalEtcd& etcd, int member) {
  etcdserverpb::StatusResponse response;
  if (!Status(NewChannel(etcd.DirectClientEndpoint(member)), absl::Seconds(1), &response).ok()) {
    return std::nullopt;
  }
  return response;
}

// Polls (bounded) until `member` reports no leader; returns how long it took, or nullopt.
// (StatusResponse.raft_term does not help here: etcd 3.4 reports the term of the last
// applied entry, which does not move while the member is cut off.)
std::optional<absl::Duration> WaitNoLeader(LocalEtcd& etcd, int member, absl::Duration timeout) {
  const absl::Time t0 = absl::Now();
  while (absl::Now() - t0 < timeout) {
    std::optional<etcdserverpb::StatusResponse> s = DirectStatus(etcd, member);
    if (s && s->leader() == 0) return absl::Now() - t0;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return std::nullopt;
}

// Lines of the member's log containing `text`.
int CountInLog(LocalEtcd& etcd, int member, const std::string& text) {
  std::ifstream in(etcd.LogPath(member));
  int count = 0;
  for (std::string line; std::getline(in, line);) count += line.find(text) != std::string::npos;
  return count;
}

// Polls (bounded) until every member in `members` reports the same leader, which is one of
// them; returns that member's index, or -1.
int WaitCommonLeader(LocalEtcd& etcd, const std::set<int>& members, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::set<uint64_t> leaders;
    for (int m : members) {
      std::optional<etcdserverpb::StatusResponse> s = DirectStatus(etcd, m);
      leaders.insert(s ? s->leader() : 0);
    }
    if (leaders.size() == 1 && *leaders.begin() != 0) {
      for (int m : members) {
        if (etcd.MemberId(m) == *leaders.begin()) return m;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return -1;
}

TEST(FaultProxyClusterTest, ClientsGoThroughTheProxiesAndPeersAreTagged) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(etcd->ClientEndpoint(i), etcd->ClientProxy(i).address());
    EXPECT_NE(etcd->ClientEndpoint(i), etcd->DirectClientEndpoint(i));
    EXPECT_EQ(etcd->PeerUrl(i), "http://" + etcd->PeerProxy(i).address());
    EXPECT_NE(etcd->MemberId(i), 0u);
  }

  ClientOptions options;
  options.endpoints = etcd->ClientEndpoints();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Connect(options));
  ASSERT_THAT(client->Put("/fault/through-proxy", "v1"), IsOk());
  ASSERT_OK_AND_ASSIGN(GetResult got, client->Get("/fault/through-proxy"));
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(got.kvs[0].value, "v1");
  int64_t client_bytes = 0;
  for (int i = 0; i < 3; ++i) client_bytes += etcd->ClientProxy(i).stats().bytes_downstream;
  EXPECT_GT(client_bytes, 0);

  // The members advertise the proxied client URLs.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  etcdserverpb::MemberListResponse members;
  ASSERT_TRUE(etcdserverpb::Cluster::NewStub(NewChannel(etcd->DirectClientEndpoint(0)))
                  ->MemberList(&context, {}, &members)
                  .ok());
  std::set<std::string> advertised;
  for (const auto& m : members.members()) {
    for (const std::string& url : m.clienturls()) advertised.insert(url);
  }
  for (int i = 0; i < 3; ++i)
    EXPECT_THAT(advertised, Contains("http://" + etcd->ClientEndpoint(i)));

  // Raft traffic names its sender: each peer proxy saw connections from both other members.
  for (int j = 0; j < 3; ++j) {
    const FaultProxyStats stats = etcd->PeerProxy(j).stats();
    for (int i = 0; i < 3; ++i) {
      if (i == j) continue;
      EXPECT_GT(stats.tagged.count(absl::StrCat(absl::Hex(etcd->MemberId(i)))), 0u)
          << "peer proxy of member " << j << " saw no connection from member " << i;
    }
  }
}

TEST(FaultProxyClusterTest, BlackHoledClientEndpointTimesOutOthersWork) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  constexpr int kVictim = 1;
  auto existing = NewChannel(etcd->ClientEndpoint(kVictim));
  etcdserverpb::RangeResponse range;
  ASSERT_TRUE(Range(existing, "/fault/k", absl::Seconds(5), &range).ok());

  ASSERT_THAT(etcd->BlackHoleClient(kVictim), IsOk());
  grpc::Status s = Range(existing, "/fault/k", absl::Seconds(1), &range);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  s = Range(NewChannel(etcd->ClientEndpoint(kVictim)), "/fault/k", absl::Seconds(1), &range);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  for (int i : {0, 2}) {
    s = Range(NewChannel(etcd->ClientEndpoint(i)), "/fault/k", absl::Seconds(5), &range);
    EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  // The fixture's own checks use the direct ports.
  EXPECT_THAT(etcd->Leader(), IsOk());
  EXPECT_THAT(etcd->WaitReady(kVictim, absl::Seconds(5)), IsOk());

  // The connection that lost bytes is reset; the same channel reconnects and works again.
  ASSERT_THAT(etcd->PassClient(kVictim), IsOk());
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    s = Range(existing, "/fault/k", absl::Seconds(1), &range);
  } while (!s.ok() && absl::Now() < deadline);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST(FaultProxyClusterTest, DelayedClientEndpointAddsLatencyToEachCall) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  constexpr int kSlow = 2;
  auto channel = NewChannel(etcd->ClientEndpoint(kSlow));
  etcdserverpb::RangeResponse range;
  ASSERT_TRUE(Range(channel, "/fault/k", absl::Seconds(5), &range).ok());
  ASSERT_THAT(etcd->DelayClient(kSlow, absl::Milliseconds(500)), IsOk());
  for (int i = 0; i < 3; ++i) {
    const absl::Time t0 = absl::Now();
    grpc::Status s = Range(channel, "/fault/k", absl::Seconds(10), &range);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GE(absl::Now() - t0, absl::Milliseconds(500));
  }
  ASSERT_THAT(etcd->PassClient(kSlow), IsOk());
  EXPECT_TRUE(Range(channel, "/fault/k", absl::Seconds(5), &range).ok());
}

TEST(FaultProxyClusterTest, ResetClientBreaksConnectionsAndRefusesWhileSet) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  auto channel = NewChannel(etcd->ClientEndpoint(0));
  etcdserverpb::RangeResponse range;
  ASSERT_TRUE(Range(channel, "/fault/k", absl::Seconds(5), &range).ok());
  ASSERT_THAT(etcd->ResetClient(0, /*refuse_new=*/true), IsOk());
  grpc::Status s = Range(NewChannel(etcd->ClientEndpoint(0)), "/fault/k", absl::Seconds(2), &range);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_GT(etcd->ClientProxy(0).stats().refused, 0);
  ASSERT_THAT(etcd->PassClient(0), IsOk());
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    s = Range(NewChannel(etcd->ClientEndpoint(0)), "/fault/k", absl::Seconds(1), &range);
  } while (!s.ok() && absl::Now() < deadline);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// Partition(victim): the victim loses its leader, the two others keep one and accept writes;
// Heal(victim): the victim catches up and serves a linearizable read of that write.
void PartitionAndHeal(LocalEtcd& etcd, int victim, const std::string& what) {
  std::set<int> majority = {0, 1, 2};
  majority.erase(victim);
  ASSERT_THAT(etcd.Partition(victim), IsOk());
  const absl::Time cut = absl::Now();

  std::optional<absl::Duration> no_leader = WaitNoLeader(etcd, victim, absl::Seconds(15));
  ASSERT_TRUE(no_leader.has_value()) << what << ": member " << victim << " kept a leader";
  std::cout << "[ measured ] " << what << ": no leader on the partitioned member after "
            << absl::FormatDuration(*no_leader) << std::endl;

  const int leader = WaitCommonLeader(etcd, majority, absl::Seconds(15));
  ASSERT_NE(leader, -1) << what << ": the majority has no common leader";
  std::cout << "[ measured ] " << what << ": majority leader m" << leader << " after "
            << absl::FormatDuration(absl::Now() - cut) << std::endl;
  const std::string key = absl::StrCat("/fault/partition/", victim);
  for (int m : majority) {
    grpc::Status s = Put(NewChannel(etcd.DirectClientEndpoint(m)), key, what, absl::Seconds(5));
    EXPECT_TRUE(s.ok()) << what << ": write on member " << m << ": " << s.error_message();
  }
  // Cut off for real: a linearizable read on the victim cannot complete; it keeps
  // campaigning and nobody hears it. LocalEtcd runs with pre-vote (etcd 3.5's default), so
  // its campaigns are pre-votes that raise no term, and healing it deposes nobody.
  const int campaigns = CountInLog(etcd, victim, "became pre-candidate at term");
  etcdserverpb::RangeResponse range;
  grpc::Status s =
      Range(NewChannel(etcd.DirectClientEndpoint(victim)), key, absl::Seconds(1), &range);
  EXPECT_FALSE(s.ok()) << what << ": the partitioned member served a linearizable read";
  absl::SleepFor(absl::Seconds(3));
  std::optional<etcdserverpb::StatusResponse> later = DirectStatus(etcd, victim);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->leader(), 0u) << what;
  EXPECT_GT(CountInLog(etcd, victim, "became pre-candidate at term"), campaigns)
      << what << ": the partitioned member did not campaign";
  EXPECT_EQ(WaitCommonLeader(etcd, majority, absl::Seconds(5)), leader) << what;

  ASSERT_THAT(etcd.Heal(victim), IsOk());
  const absl::Time healed = absl::Now();
  const absl::Time deadline = healed + absl::Seconds(20);
  bool caught_up = false;
  while (!caught_up && absl::Now() < deadline) {
    s = Range(NewChannel(etcd.DirectClientEndpoint(victim)), key, absl::Seconds(1), &range);
    caught_up = s.ok() && range.kvs_size() == 1 && range.kvs(0).value() == what;
    if (!caught_up) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(caught_up) << what << ": not caught up after Heal: " << s.error_message();
  std::cout << "[ measured ] " << what << ": linearizable read on the healed member after "
            << absl::FormatDuration(absl::Now() - healed) << std::endl;
  EXPECT_THAT(etcd.Leader(absl::Seconds(15)), IsOk());
}

TEST(FaultProxyClusterTest, PartitionedFollowerLosesLeaderAndCatchesUpAfterHeal) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  ASSERT_OK_AND_ASSIGN(const int leader, etcd->Leader());
  const int follower = (leader + 1) % 3;
  PartitionAndHeal(*etcd, follower, "follower");
  // Partitioning works again after a heal, on another member.
  ASSERT_OK_AND_ASSIGN(const int leader2, etcd->Leader());
  PartitionAndHeal(*etcd, (leader2 + 2) % 3, "follower again");
}

TEST(FaultProxyClusterTest, PartitionedLeaderStepsDownMajorityElectsAnother) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  ASSERT_OK_AND_ASSIGN(const int leader, etcd->Leader());
  PartitionAndHeal(*etcd, leader, "leader");
}

TEST(FaultProxyClusterTest, ProxiesOutliveRestartsAndStillPartition) {
  auto etcd = StartCluster();
  ASSERT_NE(etcd, nullptr);
  ASSERT_OK_AND_ASSIGN(const int leader, etcd->Leader());
  const int victim = (leader + 1) % 3;
  const std::string client_before = etcd->ClientEndpoint(victim);
  const std::string peer_before = etcd->PeerUrl(victim);
  ASSERT_THAT(etcd->Partition(victim), IsOk());
  ASSERT_THAT(etcd->Kill(victim), IsOk());
  // A restarted member only answers once it reaches a quorum, so heal first.
  ASSERT_THAT(etcd->HealAll(), IsOk());
  ASSERT_THAT(etcd->Restart(victim), IsOk());
  EXPECT_EQ(etcd->ClientEndpoint(victim), client_before);
  EXPECT_EQ(etcd->PeerUrl(victim), peer_before);
  etcdserverpb::RangeResponse range;
  grpc::Status s;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    s = Range(NewChannel(etcd->ClientEndpoint(victim)), "/fault/k", absl::Seconds(1), &range);
  } while (!s.ok() && absl::Now() < deadline);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // The restarted process's new peer connections are tagged and cut like the old ones.
  PartitionAndHeal(*etcd, victim, "restarted follower");
}

TEST(FaultProxyClusterTest, WithoutFaultProxiesNothingChanges) {
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start());
  EXPECT_EQ(etcd->ClientEndpoint(0), etcd->DirectClientEndpoint(0));
  EXPECT_EQ(etcd->PeerUrl(0), etcd->DirectPeerUrl(0));
  EXPECT_NE(etcd->MemberId(0), 0u);
  EXPECT_THAT(etcd->BlackHoleClient(0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(etcd->Partition(0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(etcd->HealAll(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(etcd->DelayClient(3, absl::Seconds(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc::testing
