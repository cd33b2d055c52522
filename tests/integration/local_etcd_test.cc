// Tests of the LocalEtcd launcher itself, against real etcd processes: start/cleanup,
// clusters and leaders, kill/restart/pause, stale temp dir sweep and start-up failures.
#include "local_etcd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "etcdserverpb/rpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Ne;
using ::testing::Not;
using ::testing::SizeIs;

std::shared_ptr<grpc::Channel> Channel(const std::string& endpoint) {
  return grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
}

grpc::Status CallStatus(const std::string& endpoint, absl::Duration timeout,
                        etcdserverpb::StatusResponse* response) {
  auto stub = etcdserverpb::Maintenance::NewStub(Channel(endpoint));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return stub->Status(&context, etcdserverpb::StatusRequest(), response);
}

grpc::Status Put(const std::string& endpoint, const std::string& key, const std::string& value) {
  auto stub = etcdserverpb::KV::NewStub(Channel(endpoint));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  return stub->Put(&context, request, &response);
}

grpc::Status Get(const std::string& endpoint, const std::string& key,
                 etcdserverpb::RangeResponse* response) {
  auto stub = etcdserverpb::KV::NewStub(Channel(endpoint));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  return stub->Range(&context, request, response);
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// A pid that certainly belonged to a process which has exited (and been reaped).
pid_t DeadPid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

// A private temp parent per test, so the sweep and leftover checks do not race with other
// test binaries running in parallel.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/local-etcd-test-XXXXXX");
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    return out;
  }

 private:
  std::string path_;
};

TEST(LocalEtcdTest, SingleMemberStartsAnswersAndCleansUp) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  LocalEtcdOptions options;
  options.temp_parent = scratch.path();
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalEtcd> etcd, LocalEtcd::Start(options));
  std::cout << "[ timing   ] 1-member Start: " << absl::FormatDuration(absl::Now() - t0)
            << std::endl;

  ASSERT_EQ(etcd->size(), 1);
  ASSERT_THAT(etcd->ClientEndpoints(), SizeIs(1));
  EXPECT_THAT(etcd->ClientEndpoint(0), HasSubstr("127.0.0.1:"));
  EXPECT_EQ(etcd->EndpointsFlag(), etcd->ClientEndpoint(0));
  EXPECT_THAT(etcd->PeerUrl(0), HasSubstr("http://127.0.0.1:"));
  EXPECT_TRUE(etcd->IsRunning(0));
  EXPECT_THAT(etcd->Leader(), IsOkAndHolds(0));

  etcdserverpb::StatusResponse status;
  grpc::Status s = CallStatus(etcd->ClientEndpoint(0), absl::Seconds(5), &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status.version(), "3.4.23");
  EXPECT_EQ(status.leader(), status.header().member_id());

  const pid_t pid = etcd->Pid(0);
  ASSERT_GT(pid, 0);
  const std::string temp_dir = etcd->TempDir();
  EXPECT_TRUE(fs::is_directory(etcd->DataDir(0)));
  EXPECT_TRUE(fs::exists(etcd->LogPath(0)));
  EXPECT_EQ(fs::path(etcd->DataDir(0)).parent_path(), fs::path(temp_dir));
  EXPECT_EQ(getpgid(pid), pid) << "etcd should lead its own process group";

  const absl::Time t1 = absl::Now();
  etcd.reset();
  EXPECT_LT(absl::Now() - t1, absl::Seconds(5));
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(fs::exists(temp_dir));
  EXPECT_THAT(scratch.Entries(), SizeIs(0));
}

TEST(LocalEtcdTest, ParentFdsDoNotLeakIntoEtcd) {
  // Opened without O_CLOEXEC on purpose, like a careless library would.
  const std::string marker = absl::StrCat(::testing::TempDir(), "/leak-marker-", getpid());
  const int fd = open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  auto started = LocalEtcd::Start();
  close(fd);
  ASSERT_THAT(started, IsOk());
  const pid_t pid = (*started)->Pid(0);
  for (const auto& entry : fs::directory_iterator(absl::StrCat("/proc/", pid, "/fd"))) {
    std::error_code ec;
    EXPECT_NE(fs::read_symlink(entry.path(), ec).string(), marker) << entry.path();
  }
  std::error_code ec;
  fs::remove(marker, ec);
}

TEST(LocalEtcdTest, ExtraFlagsReachEtcd) {
  LocalEtcdOptions options;
  options.extra_flags = {"--max-request-bytes=2048"};
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start(options));
  EXPECT_TRUE(Put(etcd->ClientEndpoint(0), "small", "v").ok());
  grpc::Status s = Put(etcd->ClientEndpoint(0), "big", std::string(8192, 'x'));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.error_message(), HasSubstr("too large"));
}

TEST(LocalEtcdTest, KillAndRestartKeepsData) {
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start());
  const std::string endpoint = etcd->ClientEndpoint(0);
  ASSERT_TRUE(Put(endpoint, "/local-etcd-test/k", "survives").ok());

  const pid_t old_pid = etcd->Pid(0);
  ASSERT_THAT(etcd->Kill(0), IsOk());
  EXPECT_FALSE(etcd->IsRunning(0));
  EXPECT_EQ(etcd->Pid(0), 0);
  EXPECT_TRUE(ProcessGone(old_pid));
  etcdserverpb::StatusResponse status;
  EXPECT_FALSE(CallStatus(endpoint, absl::Milliseconds(300), &status).ok());

  ASSERT_THAT(etcd->Restart(0), IsOk());
  EXPECT_TRUE(etcd->IsRunning(0));
  EXPECT_NE(etcd->Pid(0), old_pid);
  EXPECT_EQ(etcd->ClientEndpoint(0), endpoint);
  etcdserverpb::RangeResponse range;
  grpc::Status s = Get(endpoint, "/local-etcd-test/k", &range);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(range.kvs_size(), 1);
  EXPECT_EQ(range.kvs(0).value(), "survives");

  // Restart of a running member stops it first.
  ASSERT_THAT(etcd->Restart(0), IsOk());
  ASSERT_TRUE(Get(endpoint, "/local-etcd-test/k", &range).ok());
  EXPECT_EQ(range.kvs_size(), 1);
}

TEST(LocalEtcdTest, PauseAndResume) {
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start());
  ASSERT_THAT(etcd->Pause(0), IsOk());
  EXPECT_TRUE(etcd->IsRunning(0));
  etcdserverpb::StatusResponse status;
  grpc::Status s = CallStatus(etcd->ClientEndpoint(0), absl::Milliseconds(300), &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_THAT(etcd->WaitReady(0, absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("paused")));

  ASSERT_THAT(etcd->Resume(0), IsOk());
  EXPECT_THAT(etcd->WaitReady(0, absl::Seconds(10)), IsOk());
  EXPECT_TRUE(Put(etcd->ClientEndpoint(0), "/local-etcd-test/after-resume", "v").ok());
}

TEST(LocalEtcdTest, DestructorDoesNotHangOnPausedMember) {
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start());
  const pid_t pid = etcd->Pid(0);
  ASSERT_THAT(etcd->Pause(0), IsOk());
  const absl::Time t0 = absl::Now();
  etcd.reset();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(3));
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(LocalEtcdTest, ThreeMemberClusterLeaderFailover) {
  LocalEtcdOptions options;
  options.members = 3;
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start(options));
  std::cout << "[ timing   ] 3-member Start: " << absl::FormatDuration(absl::Now() - t0)
            << std::endl;
  ASSERT_EQ(etcd->size(), 3);
  EXPECT_THAT(etcd->EndpointsFlag(),
              AllOf(HasSubstr(etcd->ClientEndpoint(0) + ","),
                    HasSubstr(etcd->ClientEndpoint(1) + ","), HasSubstr(etcd->ClientEndpoint(2))));

  ASSERT_OK_AND_ASSIGN(const int leader, etcd->Leader());
  ASSERT_GE(leader, 0);
  ASSERT_LT(leader, 3);
  // Every member answers and agrees on who leads.
  etcdserverpb::StatusResponse leader_status;
  ASSERT_TRUE(CallStatus(etcd->ClientEndpoint(leader), absl::Seconds(5), &leader_status).ok());
  for (int i = 0; i < 3; ++i) {
    etcdserverpb::StatusResponse status;
    ASSERT_TRUE(CallStatus(etcd->ClientEndpoint(i), absl::Seconds(5), &status).ok()) << i;
    EXPECT_EQ(status.leader(), leader_status.header().member_id()) << i;
  }
  ASSERT_TRUE(Put(etcd->ClientEndpoint(leader), "/local-etcd-test/cluster", "v1").ok());

  ASSERT_THAT(etcd->Stop(leader), IsOk());
  EXPECT_FALSE(etcd->IsRunning(leader));
  const absl::Time t1 = absl::Now();
  ASSERT_OK_AND_ASSIGN(const int new_leader, etcd->Leader(absl::Seconds(15)));
  std::cout << "[ timing   ] new leader after Stop(leader): "
            << absl::FormatDuration(absl::Now() - t1) << std::endl;
  EXPECT_THAT(new_leader, Ne(leader));

  // The old leader rejoins with its data dir and catches up.
  ASSERT_THAT(etcd->Restart(leader), IsOk());
  etcdserverpb::RangeResponse range;
  ASSERT_TRUE(Get(etcd->ClientEndpoint(leader), "/local-etcd-test/cluster", &range).ok());
  ASSERT_EQ(range.kvs_size(), 1);
  EXPECT_EQ(range.kvs(0).value(), "v1");
  EXPECT_THAT(etcd->Leader(), IsOk());

  const std::vector<pid_t> pids = {etcd->Pid(0), etcd->Pid(1), etcd->Pid(2)};
  ASSERT_THAT(etcd->StopAll(), IsOk());
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(etcd->IsRunning(i));
    EXPECT_TRUE(ProcessGone(pids[i])) << i;
  }
  EXPECT_THAT(etcd->Leader(absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // A whole-cluster restart: no member can answer alone, so they come back together.
  ASSERT_THAT(etcd->RestartAll(), IsOk());
  EXPECT_THAT(etcd->Leader(), IsOk());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Get(etcd->ClientEndpoint(i), "/local-etcd-test/cluster", &range).ok()) << i;
    ASSERT_EQ(range.kvs_size(), 1) << i;
    EXPECT_EQ(range.kvs(0).value(), "v1") << i;
  }
}

TEST(LocalEtcdTest, StartSweepsStaleDirsOfDeadProcesses) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string stale = absl::StrCat(scratch.path(), "/etcdgrpc-etcd-", DeadPid(), "-AbC123");
  const std::string live = absl::StrCat(scratch.path(), "/etcdgrpc-etcd-", getppid(), "-XyZ789");
  const std::string unrelated = absl::StrCat(scratch.path(), "/something-else");
  for (const std::string& dir : {stale, live, unrelated}) {
    fs::create_directories(dir + "/m0/member");
    std::ofstream(dir + "/m0.log") << "old log\n";
  }

  LocalEtcdOptions options;
  options.temp_parent = scratch.path();
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start(options));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(unrelated));
  EXPECT_EQ(fs::path(etcd->TempDir()).parent_path(), fs::path(scratch.path()));
  EXPECT_THAT(fs::path(etcd->TempDir()).filename().string(),
              HasSubstr(absl::StrCat("etcdgrpc-etcd-", getpid(), "-")));
}

TEST(LocalEtcdTest, BadFlagFailsFastWithLogTail) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  LocalEtcdOptions options;
  options.temp_parent = scratch.path();
  options.extra_flags = {"--no-such-flag"};
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(options);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  EXPECT_THAT(etcd, StatusIs(absl::StatusCode::kUnavailable,
                             AllOf(HasSubstr("m0"), HasSubstr("exited with status 2"),
                                   HasSubstr("flag provided but not defined: -no-such-flag"))));
  // Nothing left behind.
  EXPECT_THAT(scratch.Entries(), SizeIs(0));
}

TEST(LocalEtcdTest, BadFlagInClusterNamesTheMember) {
  LocalEtcdOptions options;
  options.members = 3;
  options.extra_flags = {"--no-such-flag"};
  options.keep_logs_on_failure = false;
  const absl::Time t0 = absl::Now();
  auto etcd = LocalEtcd::Start(options);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  EXPECT_THAT(etcd, StatusIs(absl::StatusCode::kUnavailable,
                             AllOf(HasSubstr("exited with status 2"),
                                   Not(HasSubstr("flag provided but not defined")))));
}

TEST(LocalEtcdTest, MissingBinaryIsReported) {
  LocalEtcdOptions options;
  options.etcd_binary = "/nonexistent/etcd";
  EXPECT_THAT(LocalEtcd::Start(options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/etcd")));
}

TEST(LocalEtcdTest, InvalidMemberIndex) {
  ASSERT_OK_AND_ASSIGN(auto etcd, LocalEtcd::Start());
  EXPECT_THAT(etcd->Stop(5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(etcd->Pause(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(etcd->ClientEndpoint(1), "");
  EXPECT_EQ(etcd->Pid(1), 0);
  EXPECT_FALSE(etcd->IsRunning(1));
}

}  // namespace
}  // namespace etcdgrpc::testing
