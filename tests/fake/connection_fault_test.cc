// Bad options and endpoints that are not etcd: a listener that accepts TCP and
// never speaks HTTP/2, keepalive options that cannot work, and a client handle
// used after its client is gone. Each gets a clear error or a documented
// outcome, within its deadline.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "fake_etcd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::FakeEtcd;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

// A 127.0.0.1 port whose connections the kernel completes and nobody reads.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd_, 16) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    endpoint_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  }
  ~SilentListener() {
    if (fd_ >= 0) close(fd_);
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  int fd_ = -1;
  std::string endpoint_;
};

class Ignore final : public WatchListener {
 public:
  void OnEvents(const WatchEvents& /*events*/) override {}
};

TEST(ConnectionFaultTest, KeepaliveAndLivenessOptionsMustBePositive) {
  ClientOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.liveness.keepalive_time = absl::ZeroDuration();
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keepalive_time")));
  options.liveness.keepalive_time = absl::Seconds(10);
  options.liveness.keepalive_timeout = -absl::Seconds(1);
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keepalive_timeout")));
  options.liveness.keepalive_timeout = absl::Seconds(5);
  options.liveness.renewal_timeout = absl::ZeroDuration();
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("renewal_timeout")));
  options.liveness.renewal_timeout = absl::Seconds(1);
  options.liveness.suspect_max = absl::Milliseconds(1);
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("suspect_max")));
}

TEST(ConnectionFaultTest, EndpointThatNeverSpeaksHttp2FailsConnectInTime) {
  SilentListener silent;
  ASSERT_FALSE(silent.endpoint().empty());
  ClientOptions options;
  options.endpoints = {silent.endpoint()};
  options.dial_timeout = absl::Seconds(1);
  const absl::Time start = absl::Now();
  EXPECT_THAT(Client::Connect(options),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(silent.endpoint())));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(ConnectionFaultTest, CallsToAnEndpointThatNeverSpeaksReturnByTheirDeadline) {
  SilentListener silent;
  ASSERT_FALSE(silent.endpoint().empty());
  ClientOptions options;
  options.endpoints = {silent.endpoint()};
  options.dial_timeout = absl::ZeroDuration();  // connect on first use
  options.request_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  absl::Time start = absl::Now();
  EXPECT_FALSE((*client)->Put("/k", "v").ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1800));
  start = absl::Now();
  EXPECT_FALSE((*client)->KeepAliveOnce(7).ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1800));
  Ignore ignore;
  absl::StatusOr<WatchHandle> watch = (*client)->Watch({.range = KeyRange::Key("/k")}, &ignore);
  ASSERT_THAT(watch, IsOk());
  absl::StatusOr<KeptLease> kept = (*client)->Keep(7, nullptr, {.ttl = absl::Seconds(5)});
  ASSERT_THAT(kept, IsOk());
  absl::SleepFor(absl::Milliseconds(500));
  start = absl::Now();
  client->reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(ConnectionFaultTest, SharedHandleFailsCleanlyAfterTheClientIsGone) {
  absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
  ASSERT_THAT(fake, IsOk());
  ClientOptions options;
  options.endpoints = {(*fake)->endpoint()};
  options.request_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  std::shared_ptr<Client> shared = (*client)->Share();
  EXPECT_FALSE(shared->closed());
  Ignore ignore;
  absl::StatusOr<WatchHandle> watch = shared->Watch({.range = KeyRange::Key("/k")}, &ignore);
  ASSERT_THAT(watch, IsOk());
  client->reset();  // the owner goes first
  EXPECT_TRUE(shared->closed());
  EXPECT_THAT(shared->Put("/k", "v"),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("the client was closed")));
  EXPECT_THAT(shared->Get("/k"), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(shared->Grant(5), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(shared->KeepAliveOnce(3), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(shared->Keep(3, nullptr), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(shared->Watch({.range = KeyRange::Key("/k")}, &ignore),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(shared->Status((*fake)->endpoint()), StatusIs(absl::StatusCode::kCancelled));
  internal::Notification done;
  shared->PutAsync("/k", "v", {}, [&](absl::StatusOr<PutResult> result) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(2)));
  EXPECT_EQ(shared->stats().watch.state, "closed");
  watch = absl::CancelledError("dropped");  // a handle outliving both is fine
  shared.reset();
}

}  // namespace
}  // namespace etcdgrpc
