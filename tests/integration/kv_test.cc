// Every KV call against a real etcd: ranges, options, transactions,
// compaction, etcd's own errors, and the async variants.
#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "shared_etcd.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestPrefix;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Keys(const GetResult& result) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : result.kvs) keys.push_back(kv.key);
  return keys;
}

class KvTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix();
  }

  std::string Key(const std::string& name) const { return prefix_ + name; }

  void PutAll(std::initializer_list<std::string> names) {
    for (const std::string& name : names) ASSERT_THAT(client_->Put(Key(name), "v-" + name), IsOk());
  }

  std::string prefix_;
};

TEST_F(KvTest, PutThenGet) {
  absl::StatusOr<PutResult> put = client_->Put(Key("a"), "1");
  ASSERT_THAT(put, IsOk());
  EXPECT_GT(put->header.revision, 0);
  EXPECT_NE(put->header.cluster_id, 0u);
  EXPECT_FALSE(put->prev_kv.has_value());

  absl::StatusOr<GetResult> get = client_->Get(Key("a"));
  ASSERT_THAT(get, IsOk());
  ASSERT_EQ(get->kvs.size(), 1u);
  const KeyValue& kv = get->kvs[0];
  EXPECT_EQ(kv.key, Key("a"));
  EXPECT_EQ(kv.value, "1");
  EXPECT_EQ(kv.create_revision, put->header.revision);
  EXPECT_EQ(kv.mod_revision, put->header.revision);
  EXPECT_EQ(kv.version, 1);
  EXPECT_EQ(kv.lease, 0);
  EXPECT_EQ(get->count, 1);
  EXPECT_GE(get->header.revision, put->header.revision);
}

TEST_F(KvTest, BinaryAndEmptyValuesRoundTrip) {
  const std::string binary_key = Key(std::string("bin\0\xff", 5));
  const std::string binary_value("\0\x01\x7f\x80\xff", 5);
  ASSERT_THAT(client_->Put(binary_key, binary_value), IsOk());
  ASSERT_THAT(client_->Put(Key("empty"), ""), IsOk());
  absl::StatusOr<GetResult> bin = client_->Get(binary_key);
  ASSERT_THAT(bin, IsOk());
  ASSERT_EQ(bin->kvs.size(), 1u);
  EXPECT_EQ(bin->kvs[0].value, binary_value);
  absl::StatusOr<GetResult> empty = client_->Get(Key("empty"));
  ASSERT_THAT(empty, IsOk());
  ASSERT_EQ(empty->kvs.size(), 1u);
  EXPECT_EQ(empty->kvs[0].value, "");
}

TEST_F(KvTest, MissingKeyIsAnEmptyResultNotAnError) {
  absl::StatusOr<GetResult> get = client_->Get(Key("absent"));
  ASSERT_THAT(get, IsOk());
  EXPECT_TRUE(get->kvs.empty());
  EXPECT_EQ(get->count, 0);
}

TEST_F(KvTest, PutReturnsPreviousValueWhenAsked) {
  ASSERT_THAT(client_->Put(Key("k"), "old"), IsOk());
  PutOptions options;
  options.prev_kv = true;
  absl::StatusOr<PutResult> put = client_->Put(Key("k"), "new", options);
  ASSERT_THAT(put, IsOk());
  ASSERT_TRUE(put->prev_kv.has_value());
  EXPECT_EQ(put->prev_kv->value, "old");
  EXPECT_EQ(put->prev_kv->version, 1);
}

TEST_F(KvTest, IgnoreValueNeedsAnExistingKey) {
  PutOptions options;
  options.ignore_value = true;
  EXPECT_THAT(client_->Put(Key("nokey"), "", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("etcdserver: key not found")));
  ASSERT_THAT(client_->Put(Key("k"), "keep"), IsOk());
  ASSERT_THAT(client_->Put(Key("k"), "", options), IsOk());
  EXPECT_EQ(client_->Get(Key("k"))->kvs[0].value, "keep");
  EXPECT_EQ(client_->Get(Key("k"))->kvs[0].version, 2);
}

TEST_F(KvTest, PutWithLeaseAndIgnoreLease) {
  // Leases come with the Lease API; grant one through the generated stub here.
  auto lease_stub = etcdserverpb::Lease::NewStub(
      grpc::CreateChannel(client_->current_endpoint(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(60);
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(lease_stub->LeaseGrant(&context, grant, &granted).ok());

  PutOptions with_lease;
  with_lease.lease = granted.id();
  ASSERT_THAT(client_->Put(Key("leased"), "v1", with_lease), IsOk());
  PutOptions keep_lease;
  keep_lease.ignore_lease = true;
  ASSERT_THAT(client_->Put(Key("leased"), "v2", keep_lease), IsOk());
  absl::StatusOr<GetResult> get = client_->Get(Key("leased"));
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(get->kvs[0].lease, granted.id());
  EXPECT_EQ(get->kvs[0].value, "v2");

  PutOptions unknown_lease;
  unknown_lease.lease = 0x7fffffff01;
  EXPECT_THAT(client_->Put(Key("leased"), "v3", unknown_lease),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("requested lease not found")));
}

TEST_F(KvTest, RangesOfEveryShape) {
  PutAll({"a", "b", "c", "d"});
  absl::StatusOr<GetResult> prefix = client_->Range(KeyRange::Prefix(prefix_));
  ASSERT_THAT(prefix, IsOk());
  EXPECT_THAT(Keys(*prefix), ElementsAre(Key("a"), Key("b"), Key("c"), Key("d")));

  absl::StatusOr<GetResult> between = client_->Range(KeyRange::Between(Key("b"), Key("d")));
  ASSERT_THAT(between, IsOk());
  EXPECT_THAT(Keys(*between), ElementsAre(Key("b"), Key("c")));

  // From-key reaches past this test's prefix; keep only ours.
  GetOptions limited;
  limited.limit = 2;
  absl::StatusOr<GetResult> from = client_->Range(KeyRange::FromKey(Key("c")), limited);
  ASSERT_THAT(from, IsOk());
  EXPECT_THAT(Keys(*from), ElementsAre(Key("c"), Key("d")));

  absl::StatusOr<GetResult> all = client_->Range(KeyRange::All(), GetOptions{.count_only = true});
  ASSERT_THAT(all, IsOk());
  EXPECT_GE(all->count, 4);
  EXPECT_TRUE(all->kvs.empty());
}

TEST_F(KvTest, LimitSortKeysOnlyCountOnly) {
  PutAll({"a", "b", "c"});
  ASSERT_THAT(client_->Put(Key("a"), "again"), IsOk());  // a is now the newest

  GetOptions newest_two;
  newest_two.limit = 2;
  newest_two.sort_order = SortOrder::kDescend;
  newest_two.sort_target = SortTarget::kMod;
  absl::StatusOr<GetResult> sorted = client_->Range(KeyRange::Prefix(prefix_), newest_two);
  ASSERT_THAT(sorted, IsOk());
  EXPECT_THAT(Keys(*sorted), ElementsAre(Key("a"), Key("c")));
  EXPECT_TRUE(sorted->more);
  EXPECT_EQ(sorted->count, 3);

  GetOptions keys_only;
  keys_only.keys_only = true;
  absl::StatusOr<GetResult> keys = client_->Range(KeyRange::Prefix(prefix_), keys_only);
  ASSERT_THAT(keys, IsOk());
  ASSERT_EQ(keys->kvs.size(), 3u);
  EXPECT_EQ(keys->kvs[0].value, "");
  EXPECT_GT(keys->kvs[0].mod_revision, 0);

  GetOptions count_only;
  count_only.count_only = true;
  absl::StatusOr<GetResult> count = client_->Range(KeyRange::Prefix(prefix_), count_only);
  ASSERT_THAT(count, IsOk());
  EXPECT_EQ(count->count, 3);
  EXPECT_TRUE(count->kvs.empty());

  GetOptions serializable;
  serializable.serializable = true;
  absl::StatusOr<GetResult> local = client_->Range(KeyRange::Prefix(prefix_), serializable);
  ASSERT_THAT(local, IsOk());
  EXPECT_EQ(local->kvs.size(), 3u);
}

TEST_F(KvTest, ReadsAtPastRevisionAndRevisionErrors) {
  absl::StatusOr<PutResult> first = client_->Put(Key("h"), "1");
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(client_->Put(Key("h"), "2"), IsOk());
  GetOptions at_first;
  at_first.revision = first->header.revision;
  absl::StatusOr<GetResult> old = client_->Get(Key("h"), at_first);
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ(old->kvs[0].value, "1");

  GetOptions future;
  future.revision = old->header.revision + 1000;
  absl::StatusOr<GetResult> ahead = client_->Get(Key("h"), future);
  EXPECT_THAT(ahead,
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("etcdserver: mvcc: required revision is a future revision")));
  EXPECT_TRUE(IsFutureRevision(ahead.status()));
}

TEST_F(KvTest, CompactionHidesOldRevisions) {
  absl::StatusOr<PutResult> first = client_->Put(Key("c"), "1");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<PutResult> second = client_->Put(Key("c"), "2");
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(client_->Compact(second->header.revision, {.physical = true}), IsOk());
  GetOptions at_first;
  at_first.revision = first->header.revision;
  absl::StatusOr<GetResult> gone = client_->Get(Key("c"), at_first);
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kOutOfRange,
                             HasSubstr("required revision has been compacted")));
  EXPECT_TRUE(IsCompacted(gone.status()));
  // Compacting an already compacted revision is etcd's error too.
  EXPECT_THAT(client_->Compact(first->header.revision),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("compacted")));
}

TEST_F(KvTest, DeleteSinglePrefixAndRange) {
  PutAll({"a", "b", "c", "x/1", "x/2"});
  DeleteOptions with_prev;
  with_prev.prev_kv = true;
  absl::StatusOr<DeleteResult> one = client_->Delete(Key("a"), with_prev);
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->deleted, 1);
  ASSERT_EQ(one->prev_kvs.size(), 1u);
  EXPECT_EQ(one->prev_kvs[0].value, "v-a");

  absl::StatusOr<DeleteResult> prefix = client_->DeleteRange(KeyRange::Prefix(Key("x/")));
  ASSERT_THAT(prefix, IsOk());
  EXPECT_EQ(prefix->deleted, 2);
  EXPECT_TRUE(prefix->prev_kvs.empty());

  absl::StatusOr<DeleteResult> range =
      client_->DeleteRange(KeyRange::Between(Key("b"), Key("c")), with_prev);
  ASSERT_THAT(range, IsOk());
  EXPECT_EQ(range->deleted, 1);
  EXPECT_EQ(range->prev_kvs[0].key, Key("b"));

  absl::StatusOr<DeleteResult> none = client_->Delete(Key("absent"));
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->deleted, 0);
  EXPECT_THAT(Keys(*client_->Range(KeyRange::Prefix(prefix_))), ElementsAre(Key("c")));
}

TEST_F(KvTest, TxnCompareOnEveryTarget) {
  absl::StatusOr<PutResult> put = client_->Put(Key("k"), "v");
  ASSERT_THAT(put, IsOk());
  const int64_t rev = put->header.revision;
  auto holds = [&](Compare compare) {
    TxnRequest txn;
    txn.If(std::move(compare));
    absl::StatusOr<TxnResult> result = client_->Txn(txn);
    EXPECT_THAT(result, IsOk());
    return result.ok() && result->succeeded;
  };
  EXPECT_TRUE(holds(Compare::Value(Key("k")).Equal("v")));
  EXPECT_FALSE(holds(Compare::Value(Key("k")).Equal("w")));
  EXPECT_TRUE(holds(Compare::Value(Key("k")).Less("w")));
  EXPECT_TRUE(holds(Compare::Version(Key("k")).Equal(1)));
  EXPECT_TRUE(holds(Compare::CreateRevision(Key("k")).Equal(rev)));
  EXPECT_TRUE(holds(Compare::ModRevision(Key("k")).Greater(rev - 1)));
  EXPECT_TRUE(holds(Compare::Lease(Key("k")).Equal(0)));
  EXPECT_TRUE(holds(Compare::Version(Key("absent")).Equal(0)));
  EXPECT_TRUE(holds(Compare::Version(KeyRange::Prefix(prefix_)).Greater(0)));
}

TEST_F(KvTest, TxnThenElseAndNested) {
  TxnRequest create;
  create.If(Compare::CreateRevision(Key("lock")).Equal(0))
      .Then(Op::Put(Key("lock"), "me"))
      .Then(Op::Get(Key("lock")))
      .Else(Op::Get(Key("lock")));
  absl::StatusOr<TxnResult> first = client_->Txn(create);
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->succeeded);
  ASSERT_EQ(first->results.size(), 2u);
  ASSERT_NE(first->results[0].put(), nullptr);
  ASSERT_NE(first->results[1].get(), nullptr);
  EXPECT_EQ(first->results[1].get()->kvs[0].value, "me");

  absl::StatusOr<TxnResult> second = client_->Txn(create);
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->results.size(), 1u);
  EXPECT_EQ(second->results[0].get()->kvs[0].value, "me");

  TxnRequest inner;
  inner.If(Compare::Value(Key("lock")).Equal("me")).Then(Op::Delete(Key("lock")));
  TxnRequest outer;
  outer.Then(Op::Txn(inner));
  absl::StatusOr<TxnResult> nested = client_->Txn(outer);
  ASSERT_THAT(nested, IsOk());
  ASSERT_NE(nested->results[0].txn(), nullptr);
  EXPECT_TRUE(nested->results[0].txn()->succeeded);
  EXPECT_EQ(nested->results[0].txn()->results[0].del()->deleted, 1);
}

TEST_F(KvTest, TxnErrorsAreEtcds) {
  TxnRequest duplicate;
  duplicate.Then(Op::Put(Key("d"), "1")).Then(Op::Put(Key("d"), "2"));
  EXPECT_THAT(client_->Txn(duplicate),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate key")));
}

TEST_F(KvTest, AsyncVariants) {
  absl::Notification put_done;
  client_->PutAsync(Key("async"), "v", {}, [&](absl::StatusOr<PutResult> result) {
    EXPECT_THAT(result, IsOk());
    put_done.Notify();
  });
  ASSERT_TRUE(put_done.WaitForNotificationWithTimeout(absl::Seconds(10)));

  absl::Notification get_done;
  client_->GetAsync(Key("async"), {}, [&](absl::StatusOr<GetResult> result) {
    ASSERT_THAT(result, IsOk());
    ASSERT_EQ(result->kvs.size(), 1u);
    EXPECT_EQ(result->kvs[0].value, "v");
    get_done.Notify();
  });
  ASSERT_TRUE(get_done.WaitForNotificationWithTimeout(absl::Seconds(10)));

  absl::Notification txn_done;
  TxnRequest txn;
  txn.If(Compare::Value(Key("async")).Equal("v")).Then(Op::Put(Key("async"), "w"));
  client_->TxnAsync(txn, [&](absl::StatusOr<TxnResult> result) {
    ASSERT_THAT(result, IsOk());
    EXPECT_TRUE(result->succeeded);
    txn_done.Notify();
  });
  ASSERT_TRUE(txn_done.WaitForNotificationWithTimeout(absl::Seconds(10)));

  absl::Notification delete_done;
  client_->DeleteRangeAsync(KeyRange::Prefix(prefix_), {}, [&](absl::StatusOr<DeleteResult> r) {
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->deleted, 1);
    delete_done.Notify();
  });
  ASSERT_TRUE(delete_done.WaitForNotificationWithTimeout(absl::Seconds(10)));

  absl::Notification bad_done;
  client_->PutAsync("", "v", {}, [&](absl::StatusOr<PutResult> result) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
    bad_done.Notify();
  });
  ASSERT_TRUE(bad_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(KvTest, DestroyingTheClientCompletesAsyncCallsInFlight) {
  std::atomic<int> completed{0};
  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i) {
    client_->PutAsync(Key("many"), "v", {},
                      [&](absl::StatusOr<PutResult>) { completed.fetch_add(1); });
  }
  client_.reset();  // returns only after every callback ran (OK or CANCELLED)
  EXPECT_EQ(completed.load(), kCalls);
}

TEST_F(KvTest, StatusOfAnEndpoint) {
  absl::StatusOr<EndpointStatus> status = client_->Status(client_->endpoints()[0]);
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(status->version, ::testing::StartsWith("3."));
  EXPECT_TRUE(status->is_leader());
  EXPECT_GT(status->db_size, 0);
  EXPECT_THAT(client_->Status("127.0.0.1:1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc
