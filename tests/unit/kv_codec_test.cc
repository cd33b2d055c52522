#include "lib/internal/kv_codec.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::internal {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <class Message>
Message ParseText(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

TEST(BuildRangeRequestTest, CarriesEveryOption) {
  GetOptions options;
  options.limit = 10;
  options.revision = 7;
  options.serializable = true;
  options.keys_only = true;
  options.count_only = true;
  options.sort_order = SortOrder::kDescend;
  options.sort_target = SortTarget::kMod;
  options.min_mod_revision = 2;
  etcdserverpb::RangeRequest request;
  ASSERT_THAT(BuildRangeRequest(KeyRange::Prefix("a/"), options, &request), IsOk());
  EXPECT_EQ(request.key(), "a/");
  EXPECT_EQ(request.range_end(), "a0");
  EXPECT_EQ(request.limit(), 10);
  EXPECT_EQ(request.revision(), 7);
  EXPECT_TRUE(request.serializable());
  EXPECT_TRUE(request.keys_only());
  EXPECT_TRUE(request.count_only());
  EXPECT_EQ(request.sort_order(), etcdserverpb::RangeRequest::DESCEND);
  EXPECT_EQ(request.sort_target(), etcdserverpb::RangeRequest::MOD);
  EXPECT_EQ(request.min_mod_revision(), 2);
}

TEST(BuildRangeRequestTest, RefusesBadInput) {
  etcdserverpb::RangeRequest request;
  EXPECT_THAT(BuildRangeRequest(KeyRange::Key(""), {}, &request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(BuildRangeRequest(KeyRange::Between("z", "a"), {}, &request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  GetOptions negative;
  negative.revision = -1;
  EXPECT_THAT(BuildRangeRequest(KeyRange::Key("k"), negative, &request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("revision")));
  GetOptions negative_limit;
  negative_limit.limit = -5;
  EXPECT_THAT(BuildRangeRequest(KeyRange::Key("k"), negative_limit, &request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST(BuildPutRequestTest, KeepsBinaryBytes) {
  const std::string key("k\0\xff", 3);
  const std::string value("\0\x01\xfe", 3);
  PutOptions options;
  options.lease = 0x694d;
  options.prev_kv = true;
  etcdserverpb::PutRequest request;
  ASSERT_THAT(BuildPutRequest(key, value, options, &request), IsOk());
  EXPECT_EQ(request.key(), key);
  EXPECT_EQ(request.value(), value);
  EXPECT_EQ(request.lease(), 0x694d);
  EXPECT_TRUE(request.prev_kv());
  EXPECT_THAT(BuildPutRequest("", "v", {}, &request), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BuildTxnRequestTest, BuildsComparesAndNestedOps) {
  TxnRequest inner;
  inner.Then(Op::Delete("d"));
  TxnRequest txn;
  txn.If(Compare::Value("k").Equal("v"))
      .If(Compare::Version(KeyRange::Prefix("p/")).Greater(1))
      .If(Compare::CreateRevision("c").Equal(0))
      .If(Compare::ModRevision("m").Less(9))
      .If(Compare::Lease("l").NotEqual(5))
      .Then(Op::Put("k", "v2"))
      .Then(Op::Txn(inner))
      .Else(Op::Range(KeyRange::Prefix("p/"), GetOptions{.limit = 3}));
  etcdserverpb::TxnRequest request;
  ASSERT_THAT(BuildTxnRequest(txn, &request), IsOk());
  auto expected = ParseText<etcdserverpb::TxnRequest>(R"pb(
    compare { result: EQUAL target: VALUE key: "k" value: "v" }
    compare { result: GREATER target: VERSION key: "p/" range_end: "p0" version: 1 }
    compare { result: EQUAL target: CREATE key: "c" create_revision: 0 }
    compare { result: LESS target: MOD key: "m" mod_revision: 9 }
    compare { result: NOT_EQUAL target: LEASE key: "l" lease: 5 }
    success { request_put { key: "k" value: "v2" } }
    success { request_txn { success { request_delete_range { key: "d" } } } }
    failure { request_range { key: "p/" range_end: "p0" limit: 3 } }
  )pb");
  EXPECT_EQ(request.ShortDebugString(), expected.ShortDebugString());
}

TEST(BuildTxnRequestTest, RefusesBadNestedInput) {
  TxnRequest txn;
  txn.Then(Op::Put("", "v"));
  etcdserverpb::TxnRequest request;
  EXPECT_THAT(BuildTxnRequest(txn, &request), StatusIs(absl::StatusCode::kInvalidArgument));
  TxnRequest bad_compare;
  bad_compare.If(Compare::Value("").Equal("x"));
  EXPECT_THAT(BuildTxnRequest(bad_compare, &request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("txn compare")));
}

TEST(BuildCompactionRequestTest, NeedsPositiveRevision) {
  etcdserverpb::CompactionRequest request;
  EXPECT_THAT(BuildCompactionRequest(0, {}, &request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(BuildCompactionRequest(5, {.physical = true}, &request), IsOk());
  EXPECT_EQ(request.revision(), 5);
  EXPECT_TRUE(request.physical());
}

TEST(ParseTest, RangeResponse) {
  auto response = ParseText<etcdserverpb::RangeResponse>(R"pb(
    header { cluster_id: 1 member_id: 2 revision: 30 raft_term: 4 }
    kvs { key: "a" value: "1" create_revision: 5 mod_revision: 6 version: 2 lease: 7 }
    kvs { key: "b" value: "" }
    more: true
    count: 9
  )pb");
  GetResult result = ParseRangeResponse(response);
  EXPECT_EQ(result.header, (ResponseHeader{1, 2, 30, 4}));
  EXPECT_THAT(result.kvs,
              ElementsAre(KeyValue{"a", "1", 5, 6, 2, 7}, KeyValue{"b", "", 0, 0, 0, 0}));
  EXPECT_TRUE(result.more);
  EXPECT_EQ(result.count, 9);
}

TEST(ParseTest, PutAndDeleteResponses) {
  auto put = ParseText<etcdserverpb::PutResponse>(R"pb(
    header { revision: 3 }
    prev_kv { key: "k" value: "old" }
  )pb");
  PutResult put_result = ParsePutResponse(put);
  ASSERT_TRUE(put_result.prev_kv.has_value());
  EXPECT_EQ(put_result.prev_kv->value, "old");
  auto no_prev = ParseText<etcdserverpb::PutResponse>("header { revision: 3 }");
  EXPECT_FALSE(ParsePutResponse(no_prev).prev_kv.has_value());

  auto del = ParseText<etcdserverpb::DeleteRangeResponse>(R"pb(
    header { revision: 4 }
    deleted: 2
    prev_kvs { key: "a" }
    prev_kvs { key: "b" }
  )pb");
  DeleteResult del_result = ParseDeleteResponse(del);
  EXPECT_EQ(del_result.deleted, 2);
  ASSERT_EQ(del_result.prev_kvs.size(), 2u);
  EXPECT_EQ(del_result.prev_kvs[1].key, "b");
}

TEST(ParseTest, NestedTxnResponse) {
  auto response = ParseText<etcdserverpb::TxnResponse>(R"pb(
    header { revision: 8 }
    succeeded: true
    responses { response_put { header { revision: 8 } } }
    responses {
      response_range {
        kvs { key: "x" }
        count: 1
      }
    }
    responses {
      response_txn {
        succeeded: false
        responses { response_delete_range { deleted: 1 } }
      }
    }
  )pb");
  TxnResult result = ParseTxnResponse(response);
  EXPECT_TRUE(result.succeeded);
  ASSERT_EQ(result.results.size(), 3u);
  ASSERT_NE(result.results[0].put(), nullptr);
  ASSERT_NE(result.results[1].get(), nullptr);
  EXPECT_EQ(result.results[1].get()->kvs[0].key, "x");
  const TxnResult* nested = result.results[2].txn();
  ASSERT_NE(nested, nullptr);
  EXPECT_FALSE(nested->succeeded);
  ASSERT_NE(nested->results[0].del(), nullptr);
  EXPECT_EQ(nested->results[0].del()->deleted, 1);
}

TEST(ParseTest, StatusResponse) {
  auto response = ParseText<etcdserverpb::StatusResponse>(R"pb(
    header { member_id: 11 }
    version: "3.4.23"
    dbSize: 20480
    leader: 11
    raftIndex: 8
    raftTerm: 2
    raftAppliedIndex: 8
    dbSizeInUse: 16384
    errors: "boom"
  )pb");
  EndpointStatus status = ParseStatusResponse("127.0.0.1:2379", response);
  EXPECT_EQ(status.endpoint, "127.0.0.1:2379");
  EXPECT_EQ(status.version, "3.4.23");
  EXPECT_EQ(status.db_size, 20480);
  EXPECT_EQ(status.db_size_in_use, 16384);
  EXPECT_TRUE(status.is_leader());
  EXPECT_EQ(status.raft_term, 2u);
  EXPECT_THAT(status.errors, ElementsAre("boom"));
}

}  // namespace
}  // namespace etcdgrpc::internal
