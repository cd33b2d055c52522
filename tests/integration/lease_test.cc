// Leases against a real etcd: the unary calls, KeepAliveOnce and kept leases
// on the one keep-alive stream, including etcd restarts.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "etcdgrpc/wire_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recorders.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::kFastStreamBackoff;
using ::etcdgrpc::testing::LeaseRecorder;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestClientOptions;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::Contains;
using ::testing::HasSubstr;

// Counts LeaseKeepAlive requests per lease and the streams they went on.
class KeepAliveCounter : public WireLogSink {
 public:
  void Record(const WireLogRecord& record) override {
    if (record.method != "/etcdserverpb.Lease/LeaseKeepAlive") return;
    absl::MutexLock lock(&mu_);
    streams_[record.call_id] = true;
    if (record.direction != WireDirection::kSend) return;
    // text: "ID: 7587..."
    std::string text(record.text);
    sends_[text].push_back(record.time_us);
  }
  size_t streams() {
    absl::MutexLock lock(&mu_);
    return streams_.size();
  }
  std::map<std::string, std::vector<int64_t>> sends() {
    absl::MutexLock lock(&mu_);
    return sends_;
  }

 private:
  absl::Mutex mu_;
  std::map<uint64_t, bool> streams_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<int64_t>> sends_ ABSL_GUARDED_BY(mu_);
};

// The lease tests' client: 2 s calls; its streams come back quickly after an etcd restart.
const TestClientOptions kLeaseClient = {.request_timeout = absl::Seconds(2),
                                        .stream_backoff = kFastStreamBackoff};

class LeaseTest : public SharedEtcdTest {
 protected:
  LeaseTest() : SharedEtcdTest(kLeaseClient) {}
};

TEST_F(LeaseTest, GrantTimeToLiveLeasesRevoke) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(60);
  ASSERT_THAT(lease, IsOk());
  EXPECT_GT(lease->id, 0);
  EXPECT_EQ(lease->ttl, 60);
  ASSERT_THAT(client_->Put(TestPrefix() + "k", "v", {.lease = lease->id}), IsOk());

  absl::StatusOr<LeaseTimeToLiveResult> ttl = client_->TimeToLive(lease->id, true);
  ASSERT_THAT(ttl, IsOk());
  EXPECT_EQ(ttl->granted_ttl, 60);
  EXPECT_GT(ttl->ttl, 50);
  EXPECT_THAT(ttl->keys, ::testing::ElementsAre(TestPrefix() + "k"));

  absl::StatusOr<LeaseListResult> leases = client_->Leases();
  ASSERT_THAT(leases, IsOk());
  EXPECT_THAT(leases->ids, Contains(lease->id));

  ASSERT_THAT(client_->Revoke(lease->id), IsOk());
  EXPECT_TRUE(client_->Get(TestPrefix() + "k")->kvs.empty());  // keys go with the lease
  absl::StatusOr<LeaseTimeToLiveResult> gone = client_->TimeToLive(lease->id);
  ASSERT_THAT(gone, IsOk());
  EXPECT_EQ(gone->ttl, -1);
  // Revoking twice is etcd's "not found".
  absl::StatusOr<ResponseHeader> again = client_->Revoke(lease->id);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kNotFound, HasSubstr("requested lease not found")));
  EXPECT_TRUE(IsLeaseNotFound(again.status()));
}

TEST_F(LeaseTest, GrantWithChosenIdAndBadTtls) {
  const int64_t id = 0x7e57000000 + (absl::ToUnixMicros(absl::Now()) & 0xffffff);
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(30, id);
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(lease->id, id);
  EXPECT_THAT(client_->Grant(30, id),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lease already exists")));
  EXPECT_THAT(client_->Grant(0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Grant(-5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Grant(9000000001),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("too large lease TTL")));
  // Below etcd's minimum: etcd grants its minimum and says so.
  absl::StatusOr<LeaseGrantResult> tiny = client_->Grant(1);
  ASSERT_THAT(tiny, IsOk());
  EXPECT_GE(tiny->ttl, 1);
  ASSERT_THAT(client_->Revoke(id), IsOk());
}

TEST_F(LeaseTest, KeepAliveOnce) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(20);
  ASSERT_THAT(lease, IsOk());
  absl::StatusOr<LeaseKeepAliveResult> renewed = client_->KeepAliveOnce(lease->id);
  ASSERT_THAT(renewed, IsOk());
  EXPECT_EQ(renewed->id, lease->id);
  EXPECT_EQ(renewed->ttl, 20);
  EXPECT_GT(renewed->header.revision, 0);

  EXPECT_THAT(client_->KeepAliveOnce(0x1234567),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("requested lease not found")));
  EXPECT_THAT(client_->KeepAliveOnce(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(client_->Revoke(lease->id), IsOk());
}

TEST_F(LeaseTest, KeptLeaseWithTtl2StaysAliveFor10Seconds) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(2);
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(client_->Put(TestPrefix() + "alive", "v", {.lease = lease->id}), IsOk());
  LeaseRecorder listener;
  absl::StatusOr<KeptLease> kept = client_->Keep(lease->id, &listener, {.ttl = absl::Seconds(2)});
  ASSERT_THAT(kept, IsOk());
  absl::SleepFor(absl::Seconds(10));
  EXPECT_TRUE(listener.losses().empty());
  EXPECT_GE(listener.renewals(), 10);  // every 2/3 s
  EXPECT_EQ(client_->Get(TestPrefix() + "alive")->kvs.size(), 1u);
  EXPECT_GT(client_->TimeToLive(lease->id)->ttl, 0);
}

TEST_F(LeaseTest, DroppedHandleLetsTheLeaseExpire) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(2);
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(client_->Put(TestPrefix() + "k", "v", {.lease = lease->id}), IsOk());
  LeaseRecorder listener;
  {
    absl::StatusOr<KeptLease> kept = client_->Keep(lease->id, &listener);
    ASSERT_THAT(kept, IsOk());
    ASSERT_TRUE(listener.WaitForRenewals(2, absl::Seconds(5)));
  }
  const int renewals = listener.renewals();
  // Gone within TTL + etcd's expiry check granularity.
  EXPECT_TRUE(WaitUntil([&] { return client_->Get(TestPrefix() + "k")->kvs.empty(); },
                        absl::Seconds(6), absl::Milliseconds(100)));
  EXPECT_EQ(listener.renewals(), renewals);  // nothing after the handle was dropped
  EXPECT_TRUE(listener.losses().empty());
}

TEST_F(LeaseTest, KeepingAnUnknownLeaseReportsNotFound) {
  LeaseRecorder listener;
  absl::StatusOr<KeptLease> kept = client_->Keep(0x5eed0000042, &listener);
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForLoss(absl::Seconds(5)));
  std::vector<LeaseLoss> losses = listener.losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].reason, LeaseLossReason::kNotFound);
  EXPECT_THAT(losses[0].status,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("requested lease not found")));
  EXPECT_THAT(client_->Keep(0, &listener), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LeaseTest, RevokeThroughTheClientTellsTheHandles) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(30);
  ASSERT_THAT(lease, IsOk());
  LeaseRecorder first;
  LeaseRecorder second;
  absl::StatusOr<KeptLease> a = client_->Keep(lease->id, &first);
  absl::StatusOr<KeptLease> b = client_->Keep(lease->id, &second);  // the same lease twice
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_TRUE(first.WaitForRenewals(1, absl::Seconds(5)));
  ASSERT_TRUE(second.WaitForRenewals(1, absl::Seconds(5)));
  EXPECT_EQ(client_->stats().keepalive.kept_leases, 1u);
  ASSERT_THAT(client_->Revoke(lease->id), IsOk());
  ASSERT_TRUE(first.WaitForLoss(absl::Seconds(5)));
  ASSERT_TRUE(second.WaitForLoss(absl::Seconds(5)));
  EXPECT_EQ(first.losses()[0].reason, LeaseLossReason::kRevoked);
  EXPECT_EQ(second.losses()[0].reason, LeaseLossReason::kRevoked);
}

TEST_F(LeaseTest, ClosingTheClientEndsKeptLeases) {
  absl::StatusOr<LeaseGrantResult> lease = client_->Grant(30);
  ASSERT_THAT(lease, IsOk());
  LeaseRecorder listener;
  absl::StatusOr<KeptLease> kept = client_->Keep(lease->id, &listener);
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForRenewals(1, absl::Seconds(5)));
  client_.reset();
  ASSERT_EQ(listener.losses().size(), 1u);
  EXPECT_EQ(listener.losses()[0].reason, LeaseLossReason::kClientClosed);
  kept->Stop();  // the handle outlives the client harmlessly
}

TEST(LeaseStreamTest, ThousandLeasesOneStreamOneRequestPerInterval) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  auto counter = std::make_shared<KeepAliveCounter>();
  std::unique_ptr<Client> client =
      ConnectTo((*etcd)->ClientEndpoints(), {.request_timeout = absl::Seconds(2),
                                             .stream_backoff = kFastStreamBackoff,
                                             .wire_log = counter});
  ASSERT_NE(client, nullptr);
  constexpr int kLeases = 1000;
  constexpr int64_t kTtl = 3;  // renewal interval 1 s
  std::vector<KeptLease> kept;
  for (int i = 0; i < kLeases; ++i) {
    absl::StatusOr<LeaseGrantResult> lease = client->Grant(kTtl);
    ASSERT_THAT(lease, IsOk());
    absl::StatusOr<KeptLease> handle =
        client->Keep(lease->id, nullptr, {.ttl = absl::Seconds(kTtl)});
    ASSERT_THAT(handle, IsOk());
    kept.push_back(*std::move(handle));
  }
  // Granting takes a while under sanitizers: count from when all are kept.
  const int64_t all_kept_us = absl::ToUnixMicros(absl::Now());
  absl::SleepFor(absl::Seconds(4));
  ::etcdgrpc::KeepAliveStreamStats stats = client->stats().keepalive;
  EXPECT_EQ(stats.opens, 1u);
  EXPECT_EQ(stats.kept_leases, static_cast<size_t>(kLeases));
  EXPECT_EQ(counter->streams(), 1u);
  std::map<std::string, std::vector<int64_t>> sends = counter->sends();
  EXPECT_EQ(sends.size(), static_cast<size_t>(kLeases));
  for (const auto& [lease, times] : sends) {
    // Never two requests for one lease within one interval (1 s; the timer's
    // 100 ms tick may bring one forward).
    for (size_t i = 1; i < times.size(); ++i) {
      EXPECT_GE(times[i] - times[i - 1], 850000) << lease << " request " << i;
    }
    EXPECT_GE(times.size(), 4u) << lease;
    const auto after_all_kept =
        std::count_if(times.begin(), times.end(), [&](int64_t t) { return t >= all_kept_us; });
    EXPECT_LE(after_all_kept, 5) << lease;
  }
}

TEST(LeaseRestartTest, EtcdDownLongerThanTheTtlLosesTheLeasesOnce) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  std::unique_ptr<Client> client = ConnectTo((*etcd)->ClientEndpoints(), kLeaseClient);
  ASSERT_NE(client, nullptr);
  std::vector<std::unique_ptr<LeaseRecorder>> listeners;
  std::vector<KeptLease> kept;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<LeaseGrantResult> lease = client->Grant(2);
    ASSERT_THAT(lease, IsOk());
    listeners.push_back(std::make_unique<LeaseRecorder>());
    absl::StatusOr<KeptLease> handle = client->Keep(lease->id, listeners.back().get());
    ASSERT_THAT(handle, IsOk());
    kept.push_back(*std::move(handle));
  }
  for (auto& listener : listeners) ASSERT_TRUE(listener->WaitForRenewals(1, absl::Seconds(5)));
  ASSERT_THAT((*etcd)->Stop(0), IsOk());
  for (auto& listener : listeners) ASSERT_TRUE(listener->WaitForLoss(absl::Seconds(6)));
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  absl::SleepFor(absl::Seconds(3));  // the stream comes back; nothing is resurrected
  for (auto& listener : listeners) {
    std::vector<LeaseLoss> losses = listener->losses();
    ASSERT_EQ(losses.size(), 1u);
    EXPECT_EQ(losses[0].reason, LeaseLossReason::kDeadlinePassed);
    EXPECT_THAT(losses[0].status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  EXPECT_EQ(client->stats().keepalive.kept_leases, 0u);
}

TEST(LeaseRestartTest, EtcdRestartedWithinTheTtlKeepsTheLeases) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  std::unique_ptr<Client> client = ConnectTo((*etcd)->ClientEndpoints(), kLeaseClient);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<LeaseGrantResult> lease = client->Grant(10);
  ASSERT_THAT(lease, IsOk());
  LeaseRecorder listener;
  absl::StatusOr<KeptLease> kept = client->Keep(lease->id, &listener, {.ttl = absl::Seconds(10)});
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForRenewals(1, absl::Seconds(5)));
  ASSERT_THAT((*etcd)->Kill(0), IsOk());
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  const int before = listener.renewals();
  // The new stream renews at once (etcd also extends leases on restart).
  ASSERT_TRUE(listener.WaitForRenewals(before + 1, absl::Seconds(8)));
  EXPECT_TRUE(listener.losses().empty());
  EXPECT_GE(client->stats().keepalive.opens, 2u);
  EXPECT_GT(client->TimeToLive(lease->id)->ttl, 0);
}

}  // namespace
}  // namespace etcdgrpc
