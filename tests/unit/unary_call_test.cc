// The call engine's decision (UnaryCallPlan) over mocked stubs: the clock
// seam (no repeat once the deadline has passed), calls pinned to one
// endpoint, errors, a closed connection, a call repeated after an auth store
// change. client_mock_test covers the retry
// rule through the Client.
#include "lib/internal/unary_call.h"

#include <memory>
#include <vector>

#include "etcdserverpb/rpc_mock.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::internal {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;

// The fake wall clock the tests move (CallOptions::now takes a plain function).
absl::Time fake_now = absl::UnixEpoch();
absl::Time FakeNow() { return fake_now; }

class UnaryCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_now = absl::UnixEpoch();
    std::vector<std::unique_ptr<EndpointStubs>> endpoints;
    for (int i = 0; i < 3; ++i) {
      auto stubs = std::make_unique<EndpointStubs>();
      stubs->address = "e" + std::to_string(i) + ":1";
      auto kv = std::make_unique<etcdserverpb::MockKVStub>();
      auto maintenance = std::make_unique<etcdserverpb::MockMaintenanceStub>();
      kv_.push_back(kv.get());
      maintenance_.push_back(maintenance.get());
      stubs->kv = std::move(kv);
      stubs->maintenance = std::move(maintenance);
      endpoints.push_back(std::move(stubs));
    }
    connection_ = std::make_unique<Connection>(ClientOptions{}, std::move(endpoints));
  }

  std::unique_ptr<Connection> connection_;
  std::vector<etcdserverpb::MockKVStub*> kv_;
  std::vector<etcdserverpb::MockMaintenanceStub*> maintenance_;
};

TEST_F(UnaryCallTest, ARetryNeedsTimeLeftBeforeTheDeadline) {
  // The first attempt takes longer than the request time-out (on the fake
  // clock): the read is not repeated on the next endpoint.
  EXPECT_CALL(*kv_[0], Range(_, _, _)).WillOnce([] {
    fake_now += absl::Seconds(60);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "slow and then gone");
  });
  EXPECT_CALL(*kv_[1], Range(_, _, _)).Times(0);
  EXPECT_THAT(CallUnary(*connection_, kRangeRpc, etcdserverpb::RangeRequest(), {.now = FakeNow}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("slow and then gone")));
}

TEST_F(UnaryCallTest, ARetryWithTimeLeftMovesOn) {
  EXPECT_CALL(*kv_[0], Range(_, _, _)).WillOnce([] {
    fake_now += absl::Seconds(1);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone");
  });
  EXPECT_CALL(*kv_[1], Range(_, _, _)).WillOnce(Return(grpc::Status::OK));
  EXPECT_THAT(CallUnary(*connection_, kRangeRpc, etcdserverpb::RangeRequest(), {.now = FakeNow}),
              IsOk());
}

TEST_F(UnaryCallTest, APinnedCallAsksOnlyItsEndpoint) {
  EXPECT_CALL(*maintenance_[2], Status(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")));
  EXPECT_CALL(*maintenance_[0], Status(_, _, _)).Times(0);
  EXPECT_CALL(*maintenance_[1], Status(_, _, _)).Times(0);
  EXPECT_THAT(CallUnary(*connection_, kStatusRpc, etcdserverpb::StatusRequest(), {.endpoint = 2}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("e2:1")));
}

TEST_F(UnaryCallTest, ErrorsKeepEtcdsMessageAndNameTheEndpoint) {
  EXPECT_CALL(*kv_[0], Put(_, _, _))
      .WillOnce(Return(
          grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "etcdserver: permission denied")));
  absl::StatusOr<etcdserverpb::PutResponse> result =
      CallUnary(*connection_, kPutRpc, etcdserverpb::PutRequest());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kPermissionDenied,
                               HasSubstr("etcdserver: permission denied")));
  EXPECT_THAT(result.status().ToString(), HasSubstr("e0:1"));
}

TEST_F(UnaryCallTest, AClosedConnectionSendsNothing) {
  connection_->Close();
  EXPECT_CALL(*kv_[0], Range(_, _, _)).Times(0);
  EXPECT_THAT(CallUnary(*connection_, kRangeRpc, etcdserverpb::RangeRequest()),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("closed")));
}

// etcd refuses a call whose credentials were read before a change to users or
// roles ("revision of auth store is old") before applying it; a client that a
// TLS certificate identifies (no token) repeats it as it is, a few times.
TEST_F(UnaryCallTest, AnOldAuthRevisionIsRepeatedWithoutAToken) {
  const grpc::Status old_revision(grpc::StatusCode::INVALID_ARGUMENT,
                                  "etcdserver: revision of auth store is old");
  EXPECT_CALL(*kv_[0], Put(_, _, _))
      .WillOnce(Return(old_revision))
      .WillOnce(Return(old_revision))
      .WillOnce(Return(grpc::Status::OK));
  EXPECT_THAT(CallUnary(*connection_, kPutRpc, etcdserverpb::PutRequest()), IsOk());
}

TEST_F(UnaryCallTest, AnAuthRevisionAlwaysOldEndsTheCall) {
  EXPECT_CALL(*kv_[0], Put(_, _, _))
      .Times(6)
      .WillRepeatedly(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                          "etcdserver: revision of auth store is old")));
  EXPECT_THAT(CallUnary(*connection_, kPutRpc, etcdserverpb::PutRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("etcdserver: revision of auth store is old")));
}

}  // namespace
}  // namespace etcdgrpc::internal
