// The Cluster and Maintenance facades on real etcd: alarms (a NOSPACE alarm on
// an etcd with a small quota), defragment, hashes, snapshots (saved and
// verified with the CLI's bbolt reader; an unwritable path and a cut stream
// leave no file), input refused before sending, a facade outliving its client;
// and on a 3-member cluster: a learner added, started and promoted, updated,
// removed, and the leadership moved.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cli/snapshot_file_status.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "fault_proxy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

std::string TempPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/cluster_maintenance_", getpid(), "_", name);
}

class MaintenanceTest : public SharedEtcdTest {};

TEST_F(MaintenanceTest, AlarmListIsEmptyAndDisarmAllDisarmsNothing) {
  absl::StatusOr<AlarmResult> alarms = client_->maintenance().AlarmList();
  ASSERT_THAT(alarms, IsOk());
  EXPECT_THAT(alarms->alarms, SizeIs(0));
  absl::StatusOr<AlarmResult> disarmed = client_->maintenance().AlarmDisarmAll();
  ASSERT_THAT(disarmed, IsOk());
  EXPECT_THAT(disarmed->alarms, SizeIs(0));
}

TEST_F(MaintenanceTest, DefragmentHashAndHashKVOfTheMember) {
  const std::string endpoint = etcd_->ClientEndpoint(0);
  ASSERT_THAT(client_->Put(TestPrefix() + "k", "v"), IsOk());
  EXPECT_THAT(client_->maintenance().Defragment(endpoint), IsOk());
  absl::StatusOr<HashResult> hash = client_->maintenance().Hash(endpoint);
  ASSERT_THAT(hash, IsOk());
  EXPECT_NE(hash->hash, 0u);
  absl::StatusOr<HashKVResult> latest = client_->maintenance().HashKV(endpoint);
  ASSERT_THAT(latest, IsOk());
  // The hash up to a revision does not change with later writes.
  const int64_t revision = latest->header.revision;
  ASSERT_THAT(client_->Put(TestPrefix() + "k", "w"), IsOk());
  absl::StatusOr<HashKVResult> again = client_->maintenance().HashKV(endpoint, revision);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->hash, latest->hash);
  EXPECT_THAT(client_->maintenance().HashKV("127.0.0.1:1", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not one of")));
}

TEST_F(MaintenanceTest, StatusIsTheSameCallAsClientStatus) {
  const std::string endpoint = etcd_->ClientEndpoint(0);
  absl::StatusOr<EndpointStatus> facade = client_->maintenance().Status(endpoint);
  absl::StatusOr<EndpointStatus> client = client_->Status(endpoint);
  ASSERT_THAT(facade, IsOk());
  ASSERT_THAT(client, IsOk());
  EXPECT_EQ(facade->header.member_id, client->header.member_id);
  EXPECT_EQ(facade->endpoint, client->endpoint);
}

TEST_F(MaintenanceTest, SnapshotIsSavedVerifiedAndReadable) {
  ASSERT_THAT(client_->Put(TestPrefix() + "snap", "shot"), IsOk());
  const std::string path = TempPath("saved.db");
  absl::StatusOr<SnapshotResult> saved = client_->maintenance().Snapshot(path);
  ASSERT_THAT(saved, IsOk());
  EXPECT_EQ(saved->path, path);
  EXPECT_EQ(saved->sha256.size(), 64u);
  EXPECT_EQ(std::filesystem::file_size(path), static_cast<uintmax_t>(saved->size) + 32);
  EXPECT_FALSE(Exists(path + ".part"));
  // The file is etcd's backend: its last revision is the store's.
  absl::StatusOr<GetResult> now = client_->Get(TestPrefix() + "snap");
  ASSERT_THAT(now, IsOk());
  absl::StatusOr<cli::SnapshotFileStatus> status = cli::ReadSnapshotFileStatus(path);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->revision, now->header.revision);
  std::filesystem::remove(path);
}

TEST_F(MaintenanceTest, AnUnwritablePathFailsBeforeAnythingIsAsked) {
  // A client whose only endpoint is dead: had anything been sent, the error
  // would be the endpoint's.
  ClientOptions options;
  options.endpoints = {ClosedEndpoint()};
  options.dial_timeout = absl::ZeroDuration();
  std::unique_ptr<Client> dead = ConnectWith(options);
  ASSERT_NE(dead, nullptr);
  const std::string path = "/nonexistent-etcdgrpc-dir/snap.db";
  EXPECT_THAT(
      dead->maintenance().Snapshot(path),
      StatusIs(absl::StatusCode::kNotFound, "could not open " + path + ".part (open " + path +
                                                ".part: no such file or directory)"));
  EXPECT_FALSE(Exists(path + ".part"));
  EXPECT_THAT(client_->maintenance().Snapshot(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MaintenanceTest, ASecondSaveToTheSamePathIsRefusedAndLeavesTheFirstAlone) {
  // Another saver holds <path>.part (its lock), mid-stream.
  const std::string path = TempPath("busy.db");
  const std::string part = path + ".part";
  const int other = open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(other, 0);
  ASSERT_EQ(flock(other, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(write(other, "abc", 3), 3);
  EXPECT_THAT(client_->maintenance().Snapshot(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "another snapshot is being saved to " + part));
  // The other saver's file is untouched, and nothing was renamed into place.
  EXPECT_EQ(std::filesystem::file_size(part), 3u);
  EXPECT_FALSE(Exists(path));
  close(other);
  // Once the other saver is gone, a save takes its stale part file over.
  ASSERT_THAT(client_->maintenance().Snapshot(path), IsOk());
  EXPECT_TRUE(Exists(path));
  EXPECT_FALSE(Exists(part));
  std::filesystem::remove(path);
}

TEST_F(MaintenanceTest, ACutStreamLeavesNoFile) {
  // About 1.5 MB of values, so that the snapshot takes a while through a throttled proxy.
  const std::string value(64 * 1024, 'x');
  for (int i = 0; i < 24; ++i) {
    ASSERT_THAT(client_->Put(absl::StrCat(TestPrefix(), "big", i), value), IsOk());
  }
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
      FaultProxy::Start({.target_port = std::stoi(etcd_->ClientEndpoint(0).substr(10))});
  ASSERT_THAT(proxy, IsOk());
  (*proxy)->SetThrottle(Direction::kDownstream, 256 * 1024);
  std::unique_ptr<Client> through = ConnectTo({(*proxy)->address()});
  ASSERT_NE(through, nullptr);
  const std::string path = TempPath("cut.db");
  absl::StatusOr<SnapshotResult> result;
  std::thread saver([&] { result = through->maintenance().Snapshot(path); });
  // Cut once part of it has been written.
  const bool started = WaitUntil(
      [&] { return Exists(path + ".part") && std::filesystem::file_size(path + ".part") > 0; },
      absl::Seconds(10));
  (*proxy)->Reset(/*refuse_new=*/true);
  saver.join();
  EXPECT_TRUE(started);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(ErrorEndpoint(result.status()), (*proxy)->address()) << result.status();
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + ".part"));
  for (int i = 0; i < 24; ++i) {
    EXPECT_THAT(client_->Delete(absl::StrCat(TestPrefix(), "big", i)), IsOk());
  }
}

TEST_F(MaintenanceTest, BadInputIsRefusedBeforeSending) {
  Cluster cluster = client_->cluster();
  EXPECT_THAT(cluster.MemberAdd({}), StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* url : {"", "foo", "http://127.0.0.1", "ftp://127.0.0.1:1",
                          "http://127.0.0.1:1/path", "http://a:b:1"}) {
    EXPECT_THAT(cluster.MemberAdd({url}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("etcdserver: given member URLs are invalid")))
        << url;
  }
  EXPECT_THAT(cluster.MemberRemove(0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cluster.MemberPromote(0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cluster.MemberUpdate(0, {"http://127.0.0.1:1"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cluster.MemberUpdate(1, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  Maintenance maintenance = client_->maintenance();
  EXPECT_THAT(maintenance.HashKV(etcd_->ClientEndpoint(0), -1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(maintenance.MoveLeader(0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(maintenance.AlarmDisarm({}), StatusIs(absl::StatusCode::kInvalidArgument));
  // etcd's own refusal of an unknown member passes through.
  EXPECT_THAT(cluster.MemberRemove(0x1234),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("etcdserver: member not found")));
}

TEST_F(MaintenanceTest, AsyncFormsAnswer) {
  absl::StatusOr<AlarmResult> alarms;
  absl::StatusOr<MemberListResult> members;
  absl::Notification both_done;
  std::atomic<int> left{2};
  client_->maintenance().AlarmListAsync([&](absl::StatusOr<AlarmResult> r) {
    alarms = std::move(r);
    if (--left == 0) both_done.Notify();
  });
  client_->cluster().MemberListAsync([&](absl::StatusOr<MemberListResult> r) {
    members = std::move(r);
    if (--left == 0) both_done.Notify();
  });
  ASSERT_TRUE(both_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(alarms, IsOk());
  ASSERT_THAT(members, IsOk());
  EXPECT_THAT(members->members, SizeIs(1));
}

TEST_F(MaintenanceTest, FacadesOutliveTheirClient) {
  std::unique_ptr<Client> client = ConnectTo({etcd_->ClientEndpoint(0)});
  ASSERT_NE(client, nullptr);
  Cluster cluster = client->cluster();
  Maintenance maintenance = client->maintenance();
  client.reset();
  EXPECT_TRUE(IsClientClosed(cluster.MemberList().status()));
  EXPECT_TRUE(IsClientClosed(maintenance.AlarmList().status()));
  EXPECT_TRUE(IsClientClosed(maintenance.Status(etcd_->ClientEndpoint(0)).status()));
  EXPECT_TRUE(IsClientClosed(maintenance.Snapshot(TempPath("closed.db")).status()));
  EXPECT_FALSE(Exists(TempPath("closed.db") + ".part"));
}

// Its own etcd with a quota of 13 pages, as etcd's e2e alarm test uses.
LocalEtcdOptions QuotaOptions() {
  LocalEtcdOptions options;
  options.extra_flags = {absl::StrCat("--quota-backend-bytes=", 13 * 4096)};
  return options;
}

TEST(MaintenanceAlarmTest, NoSpaceAlarmIsListedAndDisarmed) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(QuotaOptions());
  ASSERT_THAT(etcd, IsOk());
  std::unique_ptr<Client> client = ConnectTo((*etcd)->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  const std::string page(4096, 'b');
  // etcd checks the quota against the backend's size after each commit (every 100 ms).
  absl::Status put;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (put.ok() && absl::Now() < deadline) put = client->Put("fill", page).status();
  EXPECT_THAT(put, StatusIs(absl::StatusCode::kResourceExhausted,
                            HasSubstr("etcdserver: mvcc: database space exceeded")));
  Maintenance maintenance = client->maintenance();
  absl::StatusOr<AlarmResult> alarms = maintenance.AlarmList();
  ASSERT_THAT(alarms, IsOk());
  ASSERT_THAT(alarms->alarms, SizeIs(1));
  EXPECT_EQ(alarms->alarms[0],
            (AlarmMember{.member_id = (*etcd)->MemberId(0), .alarm = AlarmType::kNoSpace}));
  // Make room (as etcd's e2e test does), then disarm that one alarm.
  absl::StatusOr<EndpointStatus> status = maintenance.Status((*etcd)->ClientEndpoint(0));
  ASSERT_THAT(status, IsOk());
  ASSERT_THAT(client->Compact(status->header.revision, {.physical = true}), IsOk());
  ASSERT_THAT(maintenance.Defragment((*etcd)->ClientEndpoint(0)), IsOk());
  absl::StatusOr<AlarmResult> disarmed = maintenance.AlarmDisarm(alarms->alarms[0]);
  ASSERT_THAT(disarmed, IsOk());
  EXPECT_THAT(disarmed->alarms, SizeIs(1));
  alarms = maintenance.AlarmList();
  ASSERT_THAT(alarms, IsOk());
  EXPECT_THAT(alarms->alarms, SizeIs(0));
  EXPECT_THAT(client->Put("small", "v"), IsOk());
}

// --- 3 members -----------------------------------------------------------------------

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LocalEtcdOptions options;
    options.members = 3;
    absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(options);
    ASSERT_THAT(etcd, IsOk());
    etcd_ = etcd->release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    client_ = ConnectTo(etcd_->ClientEndpoints());
    ASSERT_NE(client_, nullptr);
  }

  // The member leading now, as the members report it (0 when they disagree).
  uint64_t LeaderId() {
    uint64_t leader = 0;
    for (const std::string& endpoint : etcd_->ClientEndpoints()) {
      absl::StatusOr<EndpointStatus> status = client_->maintenance().Status(endpoint);
      if (!status.ok() || (leader != 0 && status->leader != leader)) return 0;
      leader = status->leader;
    }
    return leader;
  }

  inline static LocalEtcd* etcd_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(ClusterTest, HashKVIsTheSameOnEveryMember) {
  absl::StatusOr<PutResult> put = client_->Put("/cluster/hash", "v");
  ASSERT_THAT(put, IsOk());
  const int64_t revision = put->header.revision;
  std::vector<uint32_t> hashes;
  // A follower may not have applied the write yet: HashKV at a revision it
  // has not reached is refused ("future revision"), so wait for it.
  for (const std::string& endpoint : etcd_->ClientEndpoints()) {
    absl::StatusOr<HashKVResult> hash;
    EXPECT_TRUE(
        WaitUntil([&] { return (hash = client_->maintenance().HashKV(endpoint, revision)).ok(); },
                  absl::Seconds(5)))
        << hash.status();
    if (hash.ok()) hashes.push_back(hash->hash);
  }
  ASSERT_THAT(hashes, SizeIs(3));
  EXPECT_EQ(hashes[0], hashes[1]);
  EXPECT_EQ(hashes[1], hashes[2]);
}

TEST_F(ClusterTest, MoveLeaderHandsTheLeadershipOver) {
  const uint64_t leader = LeaderId();
  ASSERT_NE(leader, 0u);
  uint64_t target = 0;
  for (int i = 0; i < etcd_->size(); ++i) {
    if (etcd_->MemberId(i) != leader) target = etcd_->MemberId(i);
  }
  absl::StatusOr<MoveLeaderResult> moved = client_->maintenance().MoveLeader(target);
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->from, leader);
  EXPECT_EQ(moved->to, target);
  EXPECT_TRUE(WaitUntil([&] { return LeaderId() == target; }, absl::Seconds(10)));
  // A client that knows no leader's endpoint cannot move it.
  std::string follower;
  for (int i = 0; i < etcd_->size(); ++i) {
    if (etcd_->MemberId(i) != target) follower = etcd_->ClientEndpoint(i);
  }
  std::unique_ptr<Client> follower_only = ConnectTo({follower});
  ASSERT_NE(follower_only, nullptr);
  EXPECT_THAT(follower_only->maintenance().MoveLeader(leader),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no leader endpoint given at [" + follower + "]"));
}

TEST_F(ClusterTest, LearnerAddedStartedPromotedUpdatedAndRemoved) {
  Cluster cluster = client_->cluster();
  absl::StatusOr<int> index = etcd_->PrepareAddedMember();
  ASSERT_THAT(index, IsOk());
  const std::string peer_url = etcd_->PeerUrl(*index);
  // etcd refuses a reconfiguration ("unhealthy cluster") until the members have been
  // connected for 5 s, which a cluster just started or a leader just moved has not.
  absl::StatusOr<MemberAddResult> added;
  EXPECT_TRUE(
      WaitUntil([&] { return (added = cluster.MemberAdd({peer_url}, {.learner = true})).ok(); },
                absl::Seconds(15), absl::Milliseconds(250)));
  ASSERT_THAT(added, IsOk());
  const uint64_t id = added->member.id;
  EXPECT_TRUE(added->member.is_learner);
  EXPECT_EQ(added->member.peer_urls, std::vector<std::string>{peer_url});
  ASSERT_THAT(added->members, SizeIs(4));
  // What `member add` prints as ETCD_INITIAL_CLUSTER.
  std::vector<std::string> initial;
  for (const Member& member : added->members) {
    const std::string name = member.id == id ? absl::StrCat("m", *index) : member.name;
    for (const std::string& url : member.peer_urls) initial.push_back(name + "=" + url);
  }
  ASSERT_THAT(etcd_->StartAddedMember(*index, absl::StrJoin(initial, ",")), IsOk());
  // etcd promotes a learner only once it has caught up with the leader.
  absl::StatusOr<MemberPromoteResult> promoted;
  EXPECT_TRUE(WaitUntil([&] { return (promoted = cluster.MemberPromote(id)).ok(); },
                        absl::Seconds(15), absl::Milliseconds(200)))
      << promoted.status();
  // MemberList answers from the member asked's own view (etcd 3.4 has no linearizable
  // member list), which applies the promotion a moment after the leader commits it.
  absl::StatusOr<MemberListResult> members;
  EXPECT_TRUE(WaitUntil(
      [&] {
        members = cluster.MemberList();
        return members.ok() && members->members.size() == 4 &&
               std::none_of(members->members.begin(), members->members.end(),
                            [](const Member& member) { return member.is_learner; });
      },
      absl::Seconds(5)));
  ASSERT_THAT(members, IsOk());
  ASSERT_THAT(members->members, SizeIs(4));
  for (const Member& member : members->members) {
    EXPECT_FALSE(member.is_learner) << member.name;
    if (member.id == id) {
      EXPECT_EQ(member.name, absl::StrCat("m", *index));
    }
  }
  // The new member serves: a client of it alone reads what was written elsewhere.
  ASSERT_THAT(client_->Put("/cluster/joined", "yes"), IsOk());
  std::unique_ptr<Client> joined = ConnectTo({etcd_->ClientEndpoint(*index)});
  ASSERT_NE(joined, nullptr);
  EXPECT_TRUE(WaitUntil(
      [&] {
        absl::StatusOr<GetResult> got = joined->Get("/cluster/joined");
        return got.ok() && got->kvs.size() == 1;
      },
      absl::Seconds(5)));

  absl::StatusOr<MemberUpdateResult> updated = cluster.MemberUpdate(id, {peer_url});
  ASSERT_THAT(updated, IsOk());
  EXPECT_THAT(updated->members, SizeIs(4));
  EXPECT_THAT(cluster.MemberUpdate(0x1234, {peer_url}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("etcdserver: member not found")));

  absl::StatusOr<MemberRemoveResult> removed = cluster.MemberRemove(id);
  ASSERT_THAT(removed, IsOk());
  EXPECT_THAT(removed->members, SizeIs(3));
  EXPECT_THAT(etcd_->Kill(*index), IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] {
        members = cluster.MemberList();
        return members.ok() && members->members.size() == 3;
      },
      absl::Seconds(5)));
  ASSERT_THAT(members, IsOk());
  EXPECT_THAT(members->members, SizeIs(3));
}

}  // namespace
}  // namespace etcdgrpc::testing
