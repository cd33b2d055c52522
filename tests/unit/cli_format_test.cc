// Tests of the CLI's output formatters against outputs captured from etcdctl
// 3.4.23 (simple, json and table), including binary and empty values.
#include <string>
#include <vector>

#include "cli/json_format.h"
#include "cli/simple_format.h"
#include "cli/table_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::cli {
namespace {

constexpr uint64_t kClusterId = 15118495548433857066u;
constexpr uint64_t kMemberId = 13668033151171901709u;

ResponseHeader Header(int64_t revision) {
  return ResponseHeader{
      .cluster_id = kClusterId, .member_id = kMemberId, .revision = revision, .raft_term = 2};
}

KeyValue Kv(std::string key, std::string value, int64_t create, int64_t mod, int64_t version) {
  return KeyValue{.key = std::move(key),
                  .value = std::move(value),
                  .create_revision = create,
                  .mod_revision = mod,
                  .version = version,
                  .lease = 0};
}

GetResult SampleGet() {
  GetResult result;
  result.header = Header(6);
  result.kvs = {Kv("a/1", "v1", 3, 3, 1), Kv("a/2", std::string("x\0y\xffz", 5), 4, 4, 1),
                Kv("a/3", "", 5, 5, 1)};
  result.count = 3;
  return result;
}

TEST(SimpleFormatTest, GetPrintsRawKeysAndValues) {
  EXPECT_EQ(SimpleGet(SampleGet(), {}), std::string("a/1\nv1\na/2\nx\0y\xffz\na/3\n\n", 22));
}

TEST(SimpleFormatTest, GetValueOnly) {
  EXPECT_EQ(SimpleGet(SampleGet(), {.value_only = true}), std::string("v1\nx\0y\xffz\n\n", 10));
}

TEST(SimpleFormatTest, KeysOnlyResultsPrintEmptyValueLines) {
  GetResult result = SampleGet();
  for (KeyValue& kv : result.kvs) kv.value.clear();
  EXPECT_EQ(SimpleGet(result, {}), "a/1\n\na/2\n\na/3\n\n");
}

TEST(SimpleFormatTest, Hex) {
  GetResult result;
  result.kvs = {Kv("a", "b\xff", 1, 1, 1)};
  EXPECT_EQ(SimpleGet(result, {.hex = true}), "\\x61\n\\x62\\xff\n");
}

TEST(SimpleFormatTest, PutAndDelete) {
  PutResult put;
  EXPECT_EQ(SimplePut(put, {}), "OK\n");
  put.prev_kv = Kv("k1", "v2", 8, 9, 2);
  EXPECT_EQ(SimplePut(put, {}), "OK\nk1\nv2\n");
  DeleteResult del;
  EXPECT_EQ(SimpleDelete(del, {}), "0\n");
  del.deleted = 1;
  del.prev_kvs = {Kv("k1", "v1", 8, 8, 1)};
  EXPECT_EQ(SimpleDelete(del, {}), "1\nk1\nv1\n");
}

TEST(SimpleFormatTest, Txn) {
  // etcdctl: FAILURE, then a blank line before each response.
  TxnResult txn;
  txn.succeeded = false;
  GetResult get;
  get.kvs = {Kv("k1", "v9", 14, 15, 2)};
  DeleteResult del;
  del.deleted = 1;
  del.prev_kvs = {Kv("k1", "v9", 14, 15, 2)};
  txn.results = {OpResult{get}, OpResult{del}, OpResult{PutResult{}}};
  EXPECT_EQ(SimpleTxn(txn, {}), "FAILURE\n\nk1\nv9\n\n1\nk1\nv9\n\nOK\n");
  TxnResult empty;
  empty.succeeded = true;
  EXPECT_EQ(SimpleTxn(empty, {}), "SUCCESS\n");
}

TEST(SimpleFormatTest, Count) { EXPECT_EQ(SimpleCount(SampleGet()), "3\n"); }

TEST(HumanizeBytesTest, MatchesGoHumanize) {
  EXPECT_EQ(HumanizeBytes(0), "0 B");
  EXPECT_EQ(HumanizeBytes(9), "9 B");
  EXPECT_EQ(HumanizeBytes(10), "10 B");
  EXPECT_EQ(HumanizeBytes(999), "999 B");
  EXPECT_EQ(HumanizeBytes(1000), "1.0 kB");
  EXPECT_EQ(HumanizeBytes(1500), "1.5 kB");
  EXPECT_EQ(HumanizeBytes(20480), "20 kB");
  EXPECT_EQ(HumanizeBytes(32768), "33 kB");
  EXPECT_EQ(HumanizeBytes(2'147'483'648), "2.1 GB");
  EXPECT_EQ(HumanizeBytes(999'999), "1000 kB");
}

EndpointStatus SampleStatus() {
  EndpointStatus status;
  status.endpoint = "127.0.0.1:23791";
  status.header = Header(2);
  status.version = "3.4.23";
  status.db_size = 32768;
  status.db_size_in_use = 20480;
  status.leader = kMemberId;
  status.raft_index = 5;
  status.raft_term = 2;
  status.raft_applied_index = 5;
  return status;
}

TEST(EndpointStatusFormatTest, Simple) {
  EXPECT_EQ(SimpleEndpointStatus({SampleStatus()}),
            "127.0.0.1:23791, bdae9bbc11dd390d, 3.4.23, 33 kB, true, false, 2, 5, 5, \n");
  EndpointStatus follower = SampleStatus();
  follower.leader = 1;
  follower.is_learner = true;
  follower.errors = {"a", "b"};
  EXPECT_EQ(SimpleEndpointStatus({follower}),
            "127.0.0.1:23791, bdae9bbc11dd390d, 3.4.23, 33 kB, false, true, 2, 5, 5, a, b\n");
}

TEST(EndpointStatusFormatTest, Json) {
  EXPECT_EQ(
      JsonEndpointStatus({SampleStatus()}),
      R"([{"Endpoint":"127.0.0.1:23791","Status":{"header":{"cluster_id":15118495548433857066,)"
      R"("member_id":13668033151171901709,"revision":2,"raft_term":2},"version":"3.4.23",)"
      R"("dbSize":32768,"leader":13668033151171901709,"raftIndex":5,"raftTerm":2,)"
      R"("raftAppliedIndex":5,"dbSizeInUse":20480}}])"
      "\n");
  EXPECT_EQ(JsonEndpointStatus({}), "[]\n");
}

TEST(EndpointStatusFormatTest, Table) {
  EXPECT_EQ(
      TableEndpointStatus({SampleStatus()}),
      "+-----------------+------------------+---------+---------+-----------+------------+------"
      "-----+------------+--------------------+--------+\n"
      "|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT "
      "TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |\n"
      "+-----------------+------------------+---------+---------+-----------+------------+------"
      "-----+------------+--------------------+--------+\n"
      "| 127.0.0.1:23791 | bdae9bbc11dd390d |  3.4.23 |   33 kB |      true |      false |      "
      "   2 |          5 |                  5 |        |\n"
      "+-----------------+------------------+---------+---------+-----------+------------+------"
      "-----+------------+--------------------+--------+\n");
}

TEST(RenderTableTest, EmptyTableHasHeaderAndTwoLines) {
  EXPECT_EQ(RenderTable({"a_b"}, {}), "+-----+\n| A B |\n+-----+\n+-----+\n");
}

TEST(JsonFormatTest, Get) {
  EXPECT_EQ(JsonGet(SampleGet()),
            R"({"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,)"
            R"("revision":6,"raft_term":2},"kvs":[{"key":"YS8x","create_revision":3,)"
            R"("mod_revision":3,"version":1,"value":"djE="},{"key":"YS8y","create_revision":4,)"
            R"("mod_revision":4,"version":1,"value":"eAB5/3o="},{"key":"YS8z",)"
            R"("create_revision":5,"mod_revision":5,"version":1}],"count":3})"
            "\n");
}

TEST(JsonFormatTest, EmptyGetHasOnlyTheHeader) {
  GetResult result;
  result.header = Header(22);
  EXPECT_EQ(JsonGet(result),
            R"({"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,)"
            R"("revision":22,"raft_term":2}})"
            "\n");
}

TEST(JsonFormatTest, GetWithMoreAndLease) {
  GetResult result;
  result.header.revision = 24;
  KeyValue kv = Kv("a", "b", 7, 24, 6);
  kv.lease = 7587869373823632650;
  result.kvs = {kv};
  result.more = true;
  result.count = 5;
  EXPECT_EQ(JsonGet(result),
            R"({"header":{"revision":24},"kvs":[{"key":"YQ==","create_revision":7,)"
            R"("mod_revision":24,"version":6,"value":"Yg==","lease":7587869373823632650}],)"
            R"("more":true,"count":5})"
            "\n");
}

TEST(JsonFormatTest, PutAndDelete) {
  PutResult put;
  put.header = Header(8);
  EXPECT_EQ(JsonPut(put),
            R"({"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,)"
            R"("revision":8,"raft_term":2}})"
            "\n");
  put.prev_kv = Kv("k1", "v1", 8, 8, 1);
  EXPECT_THAT(JsonPut(put), ::testing::HasSubstr(
                                R"(,"prev_kv":{"key":"azE=","create_revision":8,"mod_revision":8,)"
                                R"("version":1,"value":"djE="}})"));
  DeleteResult del;
  del.header = Header(11);
  del.deleted = 1;
  del.prev_kvs = {Kv("k1", "v3", 8, 10, 3)};
  EXPECT_EQ(JsonDelete(del),
            R"({"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,)"
            R"("revision":11,"raft_term":2},"deleted":1,"prev_kvs":[{"key":"azE=",)"
            R"("create_revision":8,"mod_revision":10,"version":3,"value":"djM="}]})"
            "\n");
}

TEST(JsonFormatTest, TxnUsesGoOneofWrappers) {
  TxnResult txn;
  txn.header = Header(15);
  txn.succeeded = true;
  PutResult put;
  put.header.revision = 15;
  GetResult get;
  get.header.revision = 15;
  get.kvs = {Kv("k1", "v9", 14, 15, 2)};
  get.count = 1;
  txn.results = {OpResult{put}, OpResult{get}};
  EXPECT_EQ(JsonTxn(txn),
            R"({"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,)"
            R"("revision":15,"raft_term":2},"succeeded":true,"responses":[{"Response":)"
            R"({"ResponsePut":{"header":{"revision":15}}}},{"Response":{"ResponseRange":)"
            R"({"header":{"revision":15},"kvs":[{"key":"azE=","create_revision":14,)"
            R"("mod_revision":15,"version":2,"value":"djk="}],"count":1}}}]})"
            "\n");
}

}  // namespace
}  // namespace etcdgrpc::cli
