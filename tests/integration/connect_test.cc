// Connecting: endpoint validation, unreachable endpoints, several endpoints,
// etcd's request size limit, and the wire log.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/wire_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::ClosedEndpoint;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcd;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestPrefix;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ConnectTest, MalformedEndpointsAreRefused) {
  for (const char* bad : {"localhost", ":2379", "http//x", "127.0.0.1:99999"}) {
    ClientOptions options;
    options.endpoints = {bad};
    EXPECT_THAT(Client::Connect(options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed endpoint")))
        << bad;
  }
  ClientOptions none;
  none.endpoints.clear();
  EXPECT_THAT(Client::Connect(none), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConnectTest, UnreachableEndpointsFailWithinTheDialTimeout) {
  const std::string first = ClosedEndpoint();
  const std::string second = ClosedEndpoint();
  ClientOptions options;
  options.endpoints = {first, second};
  options.dial_timeout = absl::Milliseconds(700);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("no etcd endpoint reachable within 700ms"),
                                     HasSubstr(first), HasSubstr(second))));
  EXPECT_LT(took, absl::Seconds(2));
}

// Authentication itself is covered by auth_test.
TEST(ConnectTest, PasswordWithoutUsernameIsRefused) {
  ClientOptions auth;
  auth.password = "secret";
  EXPECT_THAT(Client::Connect(auth),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without a username")));
}

TEST(ConnectTest, DeadFirstEndpointIsSkipped) {
  testing::LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  ClientOptions options;
  options.endpoints = {ClosedEndpoint(), etcd->ClientEndpoint(0)};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_EQ((*client)->current_endpoint(), etcd->ClientEndpoint(0));
  EXPECT_THAT((*client)->Put(TestPrefix() + "k", "v"), IsOk());
}

TEST(ConnectTest, ReadsFailOverFromAnEndpointThatWentAway) {
  testing::LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  ClientOptions options;
  // No dial wait: the first call discovers that the first endpoint is dead.
  options.dial_timeout = absl::ZeroDuration();
  options.endpoints = {ClosedEndpoint(), etcd->ClientEndpoint(0)};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Get(TestPrefix() + "k"), IsOk());
  EXPECT_EQ((*client)->current_endpoint(), etcd->ClientEndpoint(0));
}

TEST(ConnectTest, RequestTooLargeIsEtcdsError) {
  testing::LocalEtcdOptions small;
  small.extra_flags = {"--max-request-bytes=4096"};
  absl::StatusOr<std::unique_ptr<testing::LocalEtcd>> etcd = testing::LocalEtcd::Start(small);
  ASSERT_THAT(etcd, IsOk());
  ClientOptions options;
  options.endpoints = (*etcd)->ClientEndpoints();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  // Above etcd's limit but within gRPC's (limit + 512 KiB): etcd's own error.
  EXPECT_THAT(
      (*client)->Put("/big", std::string(8192, 'x')),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("etcdserver: request is too large")));
  // Beyond gRPC's limit: gRPC's error, with what it means.
  EXPECT_THAT((*client)->Put("/huge", std::string(1 << 20, 'x')),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max-request-bytes")));
  EXPECT_THAT((*client)->Get("/big"), IsOk());  // nothing was written, the client still works
  EXPECT_TRUE((*client)->Get("/big")->kvs.empty());
}

class CollectingSink : public WireLogSink {
 public:
  void Record(const WireLogRecord& record) override {
    absl::MutexLock lock(&mu_);
    lines_.push_back(FormatWireLogRecord(record));
    records_.push_back({std::string(record.method), record.call_id, record.direction});
  }
  struct Seen {
    std::string method;
    uint64_t call_id;
    WireDirection direction;
  };
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  std::vector<Seen> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  std::vector<Seen> records_ ABSL_GUARDED_BY(mu_);
};

TEST(WireLogTest, RecordsEveryMessageOfEveryCall) {
  testing::LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  auto sink = std::make_shared<CollectingSink>();
  ClientOptions options;
  options.endpoints = etcd->ClientEndpoints();
  options.wire_log = sink;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  const std::string key = TestPrefix() + "k";
  ASSERT_THAT((*client)->Put(key, "hello"), IsOk());
  ASSERT_THAT((*client)->Get(key, GetOptions{.revision = 1 << 30}), ::testing::Not(IsOk()));

  std::vector<CollectingSink::Seen> records = sink->records();
  ASSERT_EQ(records.size(), 5u);  // send, recv, end for the Put; send, end for the failed Get
  EXPECT_EQ(records[0].method, "/etcdserverpb.KV/Put");
  EXPECT_EQ(records[0].direction, WireDirection::kSend);
  EXPECT_EQ(records[1].direction, WireDirection::kReceive);
  EXPECT_EQ(records[2].direction, WireDirection::kEnd);
  EXPECT_EQ(records[0].call_id, records[2].call_id);
  EXPECT_EQ(records[3].method, "/etcdserverpb.KV/Range");
  EXPECT_NE(records[3].call_id, records[0].call_id);
  EXPECT_EQ(records[4].direction, WireDirection::kEnd);

  std::vector<std::string> lines = sink->lines();
  EXPECT_THAT(lines[0], AllOf(HasSubstr(etcd->ClientEndpoint(0)), HasSubstr(" send "),
                              HasSubstr("key: \"" + key + "\""), HasSubstr("value: \"hello\"")));
  EXPECT_THAT(lines[1], AllOf(HasSubstr(" recv "), HasSubstr("header {")));
  EXPECT_THAT(lines[2], HasSubstr(" end 0B OK"));
  EXPECT_THAT(lines[4], HasSubstr("required revision is a future revision"));
}

TEST(WireLogTest, FileSinkWritesLines) {
  testing::LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  const std::string path = ::testing::TempDir() + "/wire.log";
  std::remove(path.c_str());
  {
    absl::StatusOr<std::shared_ptr<WireLogSink>> sink = OpenWireLogFile(path);
    ASSERT_THAT(sink, IsOk());
    ClientOptions options;
    options.endpoints = etcd->ClientEndpoints();
    options.wire_log = *sink;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    ASSERT_THAT((*client)->Put(TestPrefix() + "f", "v"), IsOk());
  }
  std::FILE* file = std::fopen(path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  char buffer[4096];
  size_t n = std::fread(buffer, 1, sizeof(buffer), file);
  std::fclose(file);
  std::string text(buffer, n);
  EXPECT_THAT(text, HasSubstr("/etcdserverpb.KV/Put call=1 send"));
  EXPECT_THAT(text, HasSubstr("/etcdserverpb.KV/Put call=1 end 0B OK\n"));
  std::remove(path.c_str());
  EXPECT_THAT(OpenWireLogFile("/nonexistent-dir/wire.log"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot open wire log")));
}

}  // namespace
}  // namespace etcdgrpc
