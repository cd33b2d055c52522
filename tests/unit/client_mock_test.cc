// Client over mocked stubs: what goes into each request, how answers and
// errors come back, and which calls move to another endpoint on UNAVAILABLE.
#include <memory>

#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "etcdserverpb/rpc_mock.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/internal/connection.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::SetArgPointee;

class ClientMockTest : public ::testing::Test {
 protected:
  // A client over `n` endpoints "e0:1".."e<n-1>:1" whose KV stubs are mocks.
  std::unique_ptr<Client> MakeClient(int n, ClientOptions options = {}) {
    std::vector<std::unique_ptr<internal::EndpointStubs>> endpoints;
    kv_.clear();
    for (int i = 0; i < n; ++i) {
      auto stubs = std::make_unique<internal::EndpointStubs>();
      stubs->address = "e" + std::to_string(i) + ":1";
      auto kv = std::make_unique<etcdserverpb::MockKVStub>();
      kv_.push_back(kv.get());
      stubs->kv = std::move(kv);
      endpoints.push_back(std::move(stubs));
    }
    return std::make_unique<Client>(
        options, std::make_unique<internal::Connection>(options, std::move(endpoints)));
  }

  std::vector<etcdserverpb::MockKVStub*> kv_;
};

MATCHER_P2(PutOf, key, value, "") { return arg.key() == key && arg.value() == value; }

TEST_F(ClientMockTest, PutSendsTheRequestAndParsesTheAnswer) {
  auto client = MakeClient(1);
  etcdserverpb::PutResponse response;
  response.mutable_header()->set_revision(42);
  response.mutable_prev_kv()->set_value("old");
  EXPECT_CALL(
      *kv_[0],
      Put(_, AllOf(PutOf("k", "v"), ::testing::Property(&etcdserverpb::PutRequest::prev_kv, true)),
          _))
      .WillOnce(DoAll(SetArgPointee<2>(response), Return(grpc::Status::OK)));
  PutOptions options;
  options.prev_kv = true;
  absl::StatusOr<PutResult> result = client->Put("k", "v", options);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->header.revision, 42);
  EXPECT_EQ(result->prev_kv->value, "old");
}

TEST_F(ClientMockTest, BadInputSendsNothing) {
  auto client = MakeClient(1);
  EXPECT_CALL(*kv_[0], Put(_, _, _)).Times(0);
  EXPECT_CALL(*kv_[0], Range(_, _, _)).Times(0);
  EXPECT_THAT(client->Put("", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Range(KeyRange::Between("b", "a")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ClientMockTest, ErrorsKeepEtcdsMessageAndNameTheEndpoint) {
  auto client = MakeClient(1);
  EXPECT_CALL(*kv_[0], Range(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                                    "etcdserver: mvcc: required revision has been compacted")));
  absl::StatusOr<GetResult> result = client->Get("k");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kOutOfRange,
                               AllOf(HasSubstr("required revision has been compacted"),
                                     HasSubstr("e0:1"), HasSubstr("/etcdserverpb.KV/Range"))));
  EXPECT_TRUE(IsCompacted(result.status()));
  EXPECT_EQ(ServerMessage(result.status()),
            "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(ErrorEndpoint(result.status()), "e0:1");
}

TEST_F(ClientMockTest, ReadsMoveToTheNextEndpointOnUnavailable) {
  auto client = MakeClient(2);
  EXPECT_CALL(*kv_[0], Range(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")));
  EXPECT_CALL(*kv_[1], Range(_, _, _)).WillRepeatedly(Return(grpc::Status::OK));
  EXPECT_THAT(client->Get("k"), IsOk());
  // Later calls stay on the endpoint that answered.
  EXPECT_EQ(client->current_endpoint(), "e1:1");
  EXPECT_THAT(client->Get("k"), IsOk());
}

TEST_F(ClientMockTest, ReadsGiveUpAfterEveryEndpointFailed) {
  auto client = MakeClient(2);
  for (auto* kv : kv_) {
    EXPECT_CALL(*kv, Range(_, _, _))
        .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")));
  }
  EXPECT_THAT(client->Get("k"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("down")));
}

TEST_F(ClientMockTest, WritesAreSentAtMostOnceByDefault) {
  auto client = MakeClient(2);
  EXPECT_CALL(*kv_[0], Put(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset")));
  EXPECT_CALL(*kv_[1], Put(_, _, _)).Times(0);
  EXPECT_THAT(client->Put("k", "v"), StatusIs(absl::StatusCode::kUnavailable));
  // The next call goes to the other endpoint, though.
  EXPECT_EQ(client->current_endpoint(), "e1:1");
}

TEST_F(ClientMockTest, WritesAreRetriedWhenAllowed) {
  ClientOptions options;
  options.retry_writes = true;
  auto client = MakeClient(2, options);
  EXPECT_CALL(*kv_[0], Put(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset")));
  EXPECT_CALL(*kv_[1], Put(_, _, _)).WillOnce(Return(grpc::Status::OK));
  EXPECT_THAT(client->Put("k", "v"), IsOk());
}

TEST_F(ClientMockTest, ReadOnlyTxnIsRetriedButWritingTxnIsNot) {
  auto client = MakeClient(2);
  TxnRequest read_only;
  read_only.If(Compare::Version("k").Equal(1)).Then(Op::Get("k")).Else(Op::Get("j"));
  TxnRequest writing;
  writing.Then(Op::Put("k", "v"));
  EXPECT_CALL(*kv_[0], Txn(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")));
  EXPECT_CALL(*kv_[1], Txn(_, _, _))
      .WillOnce(Return(grpc::Status::OK))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")));
  EXPECT_THAT(client->Txn(read_only), IsOk());
  EXPECT_THAT(client->Txn(writing), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientMockTest, OtherErrorsAreNotRetried) {
  auto client = MakeClient(2);
  EXPECT_CALL(*kv_[0], Range(_, _, _))
      .WillOnce(Return(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large")));
  EXPECT_CALL(*kv_[1], Range(_, _, _)).Times(0);
  EXPECT_THAT(client->Get("k"), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("etcdserver: request is too large")));
}

TEST_F(ClientMockTest, CallsCarryTheRequestDeadline) {
  ClientOptions options;
  options.request_timeout = absl::Seconds(3);
  auto client = MakeClient(1, options);
  EXPECT_CALL(*kv_[0], Range(_, _, _))
      .WillOnce([](grpc::ClientContext* context, const etcdserverpb::RangeRequest&,
                   etcdserverpb::RangeResponse*) {
        absl::Duration left = absl::FromChrono(context->deadline()) - absl::Now();
        EXPECT_GT(left, absl::Seconds(2));
        EXPECT_LE(left, absl::Seconds(3));
        return grpc::Status::OK;
      });
  EXPECT_THAT(client->Get("k"), IsOk());
}

}  // namespace
}  // namespace etcdgrpc
