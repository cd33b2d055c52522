// Authentication against a real etcd with auth enabled: root, a user limited
// to /services/ (put/get/watch/lease there, PERMISSION_DENIED naming the key
// elsewhere), wrong credentials, tokens that expire (--auth-token-ttl) or are
// forgotten by a restarted etcd while unary calls, a watch and the keep-alive
// stream carry on, the registry and resolver as the limited user, and the CLI's
// --user next to etcdctl's.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_runner.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"
#include "etcdgrpc/wire_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "recorders.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::ConnectWith;
using ::etcdgrpc::testing::EnableAuth;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LeaseRecorder;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::LocalEtcdAuth;
using ::etcdgrpc::testing::LocalEtcdOptions;
using ::etcdgrpc::testing::RunProgram;
using ::etcdgrpc::testing::RunResult;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::WaitUntil;
using ::etcdgrpc::testing::WatchRecorder;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kCli[] = ETCDGRPC_CLI;
constexpr char kEtcdctl[] = "/usr/bin/etcdctl";
const LocalEtcdAuth kAuth;  // root / svc with services-rw on /services/

// Counts Authenticate calls on the wire.
class AuthCounter : public WireLogSink {
 public:
  void Record(const WireLogRecord& record) override {
    if (record.method == "/etcdserverpb.Auth/Authenticate" &&
        record.direction == WireDirection::kSend) {
      authentications_.fetch_add(1);
    }
  }
  int authentications() const { return authentications_.load(); }

 private:
  std::atomic<int> authentications_{0};
};

// One auth-enabled etcd for the tests that do not restart it.
class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
    ASSERT_THAT(etcd.status(), IsOk());
    etcd_ = etcd->release();
    ASSERT_THAT(EnableAuth(*etcd_, kAuth), IsOk());
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }

  static ClientOptions Options(const std::string& user, const std::string& password) {
    ClientOptions options;
    options.endpoints = etcd_->ClientEndpoints();
    options.username = user;
    options.password = password;
    return options;
  }
  static std::unique_ptr<Client> Connect(const std::string& user, const std::string& password) {
    return ConnectWith(Options(user, password));
  }

  static LocalEtcd* etcd_;
};
LocalEtcd* AuthTest::etcd_ = nullptr;

TEST_F(AuthTest, RootCanDoEverything) {
  std::unique_ptr<Client> root = Connect("root", kAuth.root_password);
  ASSERT_NE(root, nullptr);
  EXPECT_THAT(root->Put("/anywhere/root-key", "v").status(), IsOk());
  EXPECT_THAT(root->Put("/services/root-key", "v").status(), IsOk());
  absl::StatusOr<GetResult> got = root->Range(KeyRange::All());
  ASSERT_THAT(got.status(), IsOk());
  EXPECT_GE(got->kvs.size(), 2u);
  absl::StatusOr<LeaseGrantResult> lease = root->Grant(10);
  ASSERT_THAT(lease.status(), IsOk());
  WatchRecorder recorder;
  absl::StatusOr<WatchHandle> watch =
      root->Watch(WatchRequest{.range = KeyRange::Prefix("/anywhere/")}, &recorder);
  ASSERT_THAT(watch.status(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return root->Put("/anywhere/w", "1").ok() &&
               recorder.WaitForEvents(1, absl::Milliseconds(200));
      },
      absl::Seconds(5)));
  EXPECT_FALSE(recorder.ended());
  EXPECT_THAT(root->Revoke(lease->id).status(), IsOk());
}

TEST_F(AuthTest, LimitedUserWorksUnderItsPrefix) {
  std::unique_ptr<Client> svc = Connect(kAuth.user, kAuth.user_password);
  ASSERT_NE(svc, nullptr);
  WatchRecorder recorder;
  absl::StatusOr<WatchHandle> watch =
      svc->Watch(WatchRequest{.range = KeyRange::Prefix("/services/limited/")}, &recorder);
  ASSERT_THAT(watch.status(), IsOk());
  absl::StatusOr<LeaseGrantResult> lease = svc->Grant(5);
  ASSERT_THAT(lease.status(), IsOk());
  LeaseRecorder lease_recorder;
  absl::StatusOr<KeptLease> kept =
      svc->Keep(lease->id, &lease_recorder, KeepOptions{.ttl = absl::Seconds(lease->ttl)});
  ASSERT_THAT(kept.status(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return lease_recorder.renewals() >= 1; }, absl::Seconds(5)));
  // The watch's create is answered before the put is issued, or the put's
  // event is delivered anyway: put until the watch has it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return svc->Put("/services/limited/a", "1", PutOptions{.lease = lease->id}).ok() &&
               recorder.WaitForEvents(1, absl::Milliseconds(200));
      },
      absl::Seconds(5)));
  absl::StatusOr<GetResult> got = svc->Get("/services/limited/a");
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->kvs.size(), 1u);
  EXPECT_EQ(got->kvs[0].lease, lease->id);
  EXPECT_THAT(svc->Delete("/services/limited/a").status(), IsOk());
  EXPECT_FALSE(recorder.ended());
  EXPECT_TRUE(lease_recorder.losses().empty());
}

TEST_F(AuthTest, LimitedUserGetsPermissionDeniedNamingTheKey) {
  std::unique_ptr<Client> svc = Connect(kAuth.user, kAuth.user_password);
  ASSERT_NE(svc, nullptr);
  EXPECT_THAT(
      svc->Put("/other/x", "v").status(),
      StatusIs(absl::StatusCode::kPermissionDenied,
               AllOf(HasSubstr("etcdserver: permission denied"), HasSubstr("key \"/other/x\""))));
  EXPECT_EQ(ServerMessage(svc->Put("/other/x", "v").status()), "etcdserver: permission denied");
  EXPECT_THAT(svc->Range(KeyRange::Prefix("/other/")).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("prefix \"/other/\"")));
  EXPECT_THAT(svc->Delete("/other/x").status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("key \"/other/x\"")));
  TxnRequest txn;
  txn.success.push_back(Op::Put("/services/ok", "1"));
  txn.success.push_back(Op::Put("/other/y", "1"));
  EXPECT_THAT(svc->Txn(txn).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("key \"/other/y\"")));
  // Async calls say the same.
  absl::Notification done;
  absl::Status async_status;
  svc->PutAsync("/other/async", "v", {}, [&](absl::StatusOr<PutResult> result) {
    async_status = result.status();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(async_status,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("key \"/other/async\"")));

  // A watch outside the prefix ends with PERMISSION_DENIED naming its range;
  // the stream still serves watches that are allowed.
  WatchRecorder denied;
  absl::StatusOr<WatchHandle> denied_watch =
      svc->Watch(WatchRequest{.range = KeyRange::Prefix("/other/")}, &denied);
  ASSERT_THAT(denied_watch.status(), IsOk());
  ASSERT_TRUE(denied.WaitForEnd(absl::Seconds(10)));
  EXPECT_THAT(denied.end_status(), StatusIs(absl::StatusCode::kPermissionDenied,
                                            AllOf(HasSubstr("etcdserver: permission denied"),
                                                  HasSubstr("prefix \"/other/\""))));
  WatchRecorder allowed;
  absl::StatusOr<WatchHandle> allowed_watch =
      svc->Watch(WatchRequest{.range = KeyRange::Prefix("/services/after-denied/")}, &allowed);
  ASSERT_THAT(allowed_watch.status(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return svc->Put("/services/after-denied/k", "1").ok() &&
               allowed.WaitForEvents(1, absl::Milliseconds(200));
      },
      absl::Seconds(10)));
  EXPECT_FALSE(allowed.ended());
}

TEST_F(AuthTest, WrongCredentialsFailConnectClearly) {
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect(Options(kAuth.user, "not-the-password"));
  EXPECT_THAT(client.status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("etcdserver: authentication failed, invalid user ID or "
                                       "password"),
                             HasSubstr("\"svc\""))));
  client = Client::Connect(Options("nobody", "x"));
  EXPECT_THAT(client.status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("authentication failed")));
  // Without credentials, etcd refuses the call itself.
  absl::StatusOr<std::unique_ptr<Client>> anonymous = Client::Connect(Options("", ""));
  ASSERT_THAT(anonymous.status(), IsOk());
  EXPECT_THAT((*anonymous)->Get("/services/x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user name is empty")));
}

TEST_F(AuthTest, RegistryAndResolverAsTheLimitedUser) {
  std::unique_ptr<Client> svc = Connect(kAuth.user, kAuth.user_password);
  ASSERT_NE(svc, nullptr);
  registry::Registrar registrar(*svc, registry::RegistrarOptions{.ttl = absl::Seconds(5)});
  absl::StatusOr<registry::Registration> registration =
      registrar.Register(registry::ServiceInstance{
          .service = "auth-greeter", .id = "1", .address = "127.0.0.1:50051"});
  ASSERT_THAT(registration.status(), IsOk());
  EXPECT_TRUE(absl::StartsWith(registrar.KeyOf(registry::ServiceInstance{
                                   .service = "auth-greeter", .id = "1", .address = ""}),
                               "/services/"));
  resolver::Resolver resolver(*svc);
  absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view = resolver.Watch("auth-greeter");
  ASSERT_THAT(view.status(), IsOk());
  ASSERT_THAT((*view)->WaitForEndpoints(absl::Seconds(10)), IsOk());
  ASSERT_EQ((*view)->snapshot()->endpoints.size(), 1u);
  EXPECT_EQ((*view)->snapshot()->endpoints[0]->address(), "127.0.0.1:50051");
}

// etcdgrpc --user next to etcdctl --user: the same answer, the same error.
TEST_F(AuthTest, CliUserFlagLikeEtcdctl) {
  if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << "etcdctl not installed";
  setenv("ETCDCTL_API", "3", 1);
  std::unique_ptr<Client> root = Connect("root", kAuth.root_password);
  ASSERT_NE(root, nullptr);
  ASSERT_THAT(root->Put("/services/cli/k", "value-1").status(), IsOk());
  const std::string endpoints = "--endpoints=" + etcd_->EndpointsFlag();
  const std::string user = "--user=" + kAuth.user + ":" + kAuth.user_password;
  for (const std::vector<std::string>& auth_flags :
       {std::vector<std::string>{user},
        std::vector<std::string>{"--user=" + kAuth.user, "--password=" + kAuth.user_password}}) {
    std::vector<std::string> ours = {kCli, endpoints};
    std::vector<std::string> theirs = {kEtcdctl, endpoints};
    for (const std::string& flag : auth_flags) {
      ours.push_back(flag);
      theirs.push_back(flag);
    }
    for (const char* arg : {"get", "--prefix", "/services/cli/"}) {
      ours.push_back(arg);
      theirs.push_back(arg);
    }
    RunResult mine = RunProgram(ours, "");
    RunResult etcdctl = RunProgram(theirs, "");
    EXPECT_EQ(mine.exit_code, 0) << mine;
    EXPECT_EQ(etcdctl.exit_code, 0) << etcdctl;
    EXPECT_EQ(mine.out, etcdctl.out);
    EXPECT_EQ(mine.out, "/services/cli/k\nvalue-1\n");
  }
  // Wrong password: both print etcd's message.
  RunResult mine = RunProgram({kCli, endpoints, "--user=svc:wrong", "get", "/services/cli/k"}, "");
  RunResult etcdctl =
      RunProgram({kEtcdctl, endpoints, "--user=svc:wrong", "get", "/services/cli/k"}, "");
  EXPECT_NE(mine.exit_code, 0);
  EXPECT_NE(etcdctl.exit_code, 0);
  EXPECT_THAT(mine.err,
              HasSubstr("etcdserver: authentication failed, invalid user ID or password"));
  EXPECT_THAT(etcdctl.err,
              HasSubstr("etcdserver: authentication failed, invalid user ID or password"));
  // Outside the prefix: permission denied from both.
  mine = RunProgram({kCli, endpoints, user, "get", "/other/k"}, "");
  etcdctl = RunProgram({kEtcdctl, endpoints, user, "get", "/other/k"}, "");
  EXPECT_NE(mine.exit_code, 0);
  EXPECT_THAT(mine.err, HasSubstr("etcdserver: permission denied"));
  EXPECT_THAT(etcdctl.err, HasSubstr("etcdserver: permission denied"));
}

// Tokens that expire (--auth-token-ttl=2: a simple token unused for 2 s is
// dropped) and tokens forgotten by a restarted etcd: unary calls, a watch
// that has to reopen and the keep-alive stream carry on without an error.
TEST(AuthTokenTest, ExpiredAndForgottenTokensAreRefreshed) {
  LocalEtcdOptions etcd_options;
  etcd_options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=2"};
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(etcd_options);
  ASSERT_THAT(etcd.status(), IsOk());
  ASSERT_THAT(EnableAuth(**etcd, kAuth), IsOk());

  auto counter = std::make_shared<AuthCounter>();
  ClientOptions options;
  options.endpoints = (*etcd)->ClientEndpoints();
  options.username = kAuth.user;
  options.password = kAuth.user_password;
  options.wire_log = counter;
  absl::StatusOr<std::unique_ptr<Client>> connected = Client::Connect(options);
  ASSERT_THAT(connected.status(), IsOk());
  Client& svc = **connected;
  EXPECT_EQ(counter->authentications(), 1);

  // Unary: idle past the TTL, the next call still succeeds (one re-auth).
  ASSERT_THAT(svc.Put("/services/ttl/a", "1").status(), IsOk());
  absl::SleepFor(absl::Seconds(3.5));
  EXPECT_THAT(svc.Get("/services/ttl/a").status(), IsOk());
  EXPECT_EQ(counter->authentications(), 2);
  absl::SleepFor(absl::Seconds(3.5));
  absl::Notification done;
  absl::Status async_status;
  svc.GetAsync("/services/ttl/a", {}, [&](absl::StatusOr<GetResult> result) {
    async_status = result.status();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(async_status, IsOk());
  EXPECT_EQ(counter->authentications(), 3);

  // A watch created on a stream whose token has expired since it opened.
  WatchRecorder first;
  absl::StatusOr<WatchHandle> first_watch =
      svc.Watch(WatchRequest{.range = KeyRange::Prefix("/services/ttl/w1/")}, &first);
  ASSERT_THAT(first_watch.status(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return svc.Put("/services/ttl/w1/k", "1").ok() &&
               first.WaitForEvents(1, absl::Milliseconds(200));
      },
      absl::Seconds(10)));
  absl::SleepFor(absl::Seconds(3.5));
  WatchRecorder second;
  absl::StatusOr<WatchHandle> second_watch =
      svc.Watch(WatchRequest{.range = KeyRange::Prefix("/services/ttl/w2/")}, &second);
  ASSERT_THAT(second_watch.status(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return svc.Put("/services/ttl/w2/k", "1").ok() &&
               second.WaitForEvents(1, absl::Milliseconds(200));
      },
      absl::Seconds(10)));
  EXPECT_FALSE(second.ended()) << second.end_status();

  // A kept lease, then etcd restarts: every token is forgotten; the watch
  // stream and the keep-alive stream reopen with new tokens.
  absl::StatusOr<LeaseGrantResult> lease = svc.Grant(10);
  ASSERT_THAT(lease.status(), IsOk());
  LeaseRecorder lease_recorder;
  absl::StatusOr<KeptLease> kept =
      svc.Keep(lease->id, &lease_recorder, KeepOptions{.ttl = absl::Seconds(lease->ttl)});
  ASSERT_THAT(kept.status(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return lease_recorder.renewals() >= 1; }, absl::Seconds(5)));
  const size_t first_before = first.keys().size();
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  const int renewals_before = lease_recorder.renewals();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return svc.Put("/services/ttl/w1/after", "1").ok() &&
               first.WaitForEvents(first_before + 1, absl::Milliseconds(200));
      },
      absl::Seconds(15)));
  ASSERT_TRUE(
      WaitUntil([&] { return lease_recorder.renewals() > renewals_before; }, absl::Seconds(10)));
  // Past the TTL once more, with only the streams in use.
  absl::SleepFor(absl::Seconds(3.5));
  EXPECT_THAT(svc.Put("/services/ttl/w2/again", "1").status(), IsOk());
  EXPECT_TRUE(second.WaitForEvents(2, absl::Seconds(10)));
  EXPECT_THAT(svc.TimeToLive(lease->id).status(), IsOk());
  EXPECT_FALSE(first.ended()) << first.end_status();
  EXPECT_FALSE(second.ended()) << second.end_status();
  EXPECT_TRUE(lease_recorder.losses().empty());
  EXPECT_GE(counter->authentications(), 4);
}

}  // namespace
}  // namespace etcdgrpc
