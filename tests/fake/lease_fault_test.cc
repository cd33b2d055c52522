// Lease keeping under faults the real etcd will not produce on demand: a TTL 0
// answer, a dropped stream, a server that stops answering.
#include <memory>
#include <vector>

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
using ::etcdgrpc::testing::FakeLeaseService;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

class Listener : public LeaseListener {
 public:
  void OnRenewed(int64_t, int64_t) override {
    internal::MutexLock lock(&mu_);
    ++renewals_;
  }
  void OnLost(int64_t, const LeaseLoss& loss) override {
    internal::MutexLock lock(&mu_);
    losses_.push_back(loss);
    lost_at_ = absl::Now();
    lost_cv_.Notify();
  }
  bool WaitForLoss(absl::Duration timeout) {
    internal::MutexLock lock(&mu_);
    return lost_cv_.WaitUntil(mu_, internal::MonoNow() + timeout,
                              [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !losses_.empty(); });
  }
  std::vector<LeaseLoss> losses() {
    internal::MutexLock lock(&mu_);
    return losses_;
  }
  absl::Time lost_at() {
    internal::MutexLock lock(&mu_);
    return lost_at_;
  }
  int renewals() {
    internal::MutexLock lock(&mu_);
    return renewals_;
  }

 private:
  internal::Mutex mu_;
  int renewals_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<LeaseLoss> losses_ ABSL_GUARDED_BY(mu_);
  absl::Time lost_at_ ABSL_GUARDED_BY(mu_);
  internal::CondVar lost_cv_;  // notified when losses_ grows
};

class LeaseFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
    ASSERT_THAT(fake, IsOk());
    fake_ = *std::move(fake);
    ClientOptions options;
    options.endpoints = {fake_->endpoint()};
    options.request_timeout = absl::Seconds(1);
    options.stream_backoff.initial = absl::Milliseconds(20);
    options.stream_backoff.max = absl::Milliseconds(200);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  void TearDown() override {
    client_.reset();
    fake_.reset();
  }

  std::unique_ptr<FakeEtcd> fake_;
  std::unique_ptr<Client> client_;
};

TEST_F(LeaseFaultTest, TtlZeroAnswerMeansLost) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kTtlZero);
  Listener listener;
  absl::StatusOr<KeptLease> kept = client_->Keep(42, &listener);
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForLoss(absl::Seconds(5)));
  ASSERT_EQ(listener.losses().size(), 1u);
  EXPECT_EQ(listener.losses()[0].reason, LeaseLossReason::kNotFound);
  EXPECT_THAT(listener.losses()[0].status,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("requested lease not found")));
  EXPECT_EQ(listener.renewals(), 0);
  EXPECT_THAT(client_->KeepAliveOnce(42), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LeaseFaultTest, DroppedStreamReconnectsAndResendsAtOnce) {
  fake_->lease().set_ttl(30);  // next renewal would be 10 s away
  Listener listener;
  absl::StatusOr<KeptLease> kept = client_->Keep(7, &listener);
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(fake_->lease().WaitForRequests(7, 1, absl::Seconds(5)));
  const absl::Time dropped = absl::Now();
  fake_->lease().DropStreams();
  // A new stream, and the lease renewed on it right away, not 10 s later.
  ASSERT_TRUE(fake_->lease().WaitForRequests(7, 2, absl::Seconds(3)));
  EXPECT_LT(fake_->lease().requests()[7][1] - dropped, absl::Seconds(1));
  EXPECT_EQ(fake_->lease().streams_opened(), 2);
  EXPECT_TRUE(listener.losses().empty());
  EXPECT_GE(client_->stats().keepalive.opens, 2u);
}

TEST_F(LeaseFaultTest, NoAnswerIsLostLocallyAtTheDeadline) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kSilent);
  Listener listener;
  const absl::Time start = absl::Now();
  absl::StatusOr<KeptLease> kept = client_->Keep(9, &listener, {.ttl = absl::Seconds(2)});
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForLoss(absl::Seconds(5)));
  const absl::Duration after = listener.lost_at() - start;
  EXPECT_GE(after, absl::Seconds(2));
  EXPECT_LT(after, absl::Milliseconds(2500));
  ASSERT_EQ(listener.losses().size(), 1u);
  EXPECT_EQ(listener.losses()[0].reason, LeaseLossReason::kDeadlinePassed);
  // A stream that stopped answering was restarted (request time-out 1 s).
  EXPECT_GE(fake_->lease().streams_opened(), 2);
}

TEST_F(LeaseFaultTest, KeepAliveOnceSurvivesAStreamDrop) {
  fake_->lease().DropOnNextRequest();
  absl::StatusOr<LeaseKeepAliveResult> result = client_->KeepAliveOnce(11);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->ttl, 30);
  EXPECT_EQ(fake_->lease().requests()[11].size(), 2u);  // sent again on the new stream
}

TEST_F(LeaseFaultTest, KeepAliveOnceTimesOutWithoutAnswer) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kSilent);
  const absl::Time start = absl::Now();
  EXPECT_THAT(client_->KeepAliveOnce(12),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("no keep-alive answer")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(LeaseFaultTest, ListenerMayStopItsOwnHandle) {
  struct SelfStopping : LeaseListener {
    // The handle is set once Keep() has returned, which the first renewal
    // may beat: the listener waits for it. A KeptLease is not thread-safe, so
    // the handle is passed in, and its Stop() passed back, through these.
    KeptLease* handle = nullptr;
    internal::Notification handle_set;
    internal::Notification stopped;
    internal::Mutex mu;
    int calls ABSL_GUARDED_BY(mu) = 0;
    void OnRenewed(int64_t, int64_t) override {
      {
        internal::MutexLock lock(&mu);
        ++calls;
      }
      if (!handle_set.WaitForNotificationWithTimeout(absl::Seconds(5))) return;
      handle->Stop();  // from inside its own callback: must not deadlock
      stopped.Notify();
    }
  } listener;
  fake_->lease().set_ttl(3);  // renew every second
  absl::StatusOr<KeptLease> kept = client_->Keep(13, &listener);
  ASSERT_THAT(kept, IsOk());
  listener.handle = &*kept;
  listener.handle_set.Notify();
  ASSERT_TRUE(listener.stopped.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(2500));  // no renewal reaches the listener any more
  internal::MutexLock lock(&listener.mu);
  EXPECT_EQ(listener.calls, 1);
}

TEST_F(LeaseFaultTest, BlockedListenerDoesNotStallTheStream) {
  struct Blocking : LeaseListener {
    internal::Notification entered;
    internal::Notification release;
    void OnRenewed(int64_t, int64_t) override {
      if (!entered.HasBeenNotified()) entered.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
  } blocking;
  absl::StatusOr<KeptLease> kept = client_->Keep(21, &blocking);
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(blocking.entered.WaitForNotificationWithTimeout(absl::Seconds(5)));
  // The reader thread is stuck in the listener; reading is handed over.
  const absl::Time start = absl::Now();
  EXPECT_THAT(client_->KeepAliveOnce(22), IsOk());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_GE(client_->stats().keepalive.handoffs, 1u);
  blocking.release.Notify();
}

TEST_F(LeaseFaultTest, FirstDeadlineCountsFromTheGrant) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kSilent);
  Listener listener;
  const absl::Time start = absl::Now();
  // Granted 2 s ago with a TTL of 3 s: one second is left, not three.
  absl::StatusOr<KeptLease> kept = client_->Keep(
      31, &listener, {.ttl = absl::Seconds(3), .granted_at = start - absl::Seconds(2)});
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForLoss(absl::Seconds(5)));
  const absl::Duration after = listener.lost_at() - start;
  EXPECT_GE(after, absl::Milliseconds(900));
  EXPECT_LT(after, absl::Milliseconds(1800));
}

TEST_F(LeaseFaultTest, UnknownTtlStillGetsADeadline) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kSilent);
  Listener listener;
  const absl::Time start = absl::Now();
  absl::StatusOr<KeptLease> kept = client_->Keep(32, &listener);  // TTL unknown
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE(listener.WaitForLoss(absl::Seconds(5)));
  // Within the request time-out (1 s here) an answer must have said the TTL.
  EXPECT_LT(listener.lost_at() - start, absl::Milliseconds(1800));
  ASSERT_EQ(listener.losses().size(), 1u);
  EXPECT_EQ(listener.losses()[0].reason, LeaseLossReason::kDeadlinePassed);
  EXPECT_THAT(listener.losses()[0].status,
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("TTL unknown")));
}

TEST_F(LeaseFaultTest, BlockedLossListenerDoesNotDelayOtherLeases) {
  fake_->lease().set_mode(FakeLeaseService::Mode::kSilent);
  struct BlockInLoss : LeaseListener {
    internal::Notification entered;
    internal::Notification release;
    void OnLost(int64_t, const LeaseLoss&) override {
      entered.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
  } blocking;
  Listener other;
  const absl::Time start = absl::Now();
  absl::StatusOr<KeptLease> first = client_->Keep(33, &blocking, {.ttl = absl::Seconds(1)});
  absl::StatusOr<KeptLease> second = client_->Keep(34, &other, {.ttl = absl::Seconds(2)});
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(blocking.entered.WaitForNotificationWithTimeout(absl::Seconds(5)));
  // Reported at its own deadline although the first loss's listener still blocks.
  ASSERT_TRUE(other.WaitForLoss(absl::Seconds(5)));
  EXPECT_LT(other.lost_at() - start, absl::Milliseconds(2600));
  blocking.release.Notify();
}

// Losses found at a deadline run on the client's runner. Destroying the client
// while one is still running waits for it, and it may call the client (through
// a Share() handle) meanwhile: the calls fail with CANCELLED and nothing
// deadlocks (the runner is shut down after the lease keeper, which completes
// a KeepAliveOnce in flight). A loss queued behind it still reaches its
// listener before the destructor returns.
TEST(LeaseCloseTest, LossListenerCallingTheClientWhileItClosesDoesNotDeadlock) {
  absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
  ASSERT_THAT(fake, IsOk());
  (*fake)->lease().set_mode(FakeLeaseService::Mode::kSilent);
  ClientOptions options;
  options.endpoints = {(*fake)->endpoint()};
  options.request_timeout = absl::Seconds(1);
  options.slow_listener_handoff = absl::Seconds(30);  // the second loss stays queued
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  struct CallsBack : LeaseListener {
    std::shared_ptr<Client> client;
    internal::Notification entered;
    internal::Notification closing;
    absl::Status once_status;
    absl::Status get_status;
    void OnLost(int64_t id, const LeaseLoss&) override {
      entered.Notify();
      closing.WaitForNotificationWithTimeout(absl::Seconds(10));
      absl::SleepFor(absl::Milliseconds(100));  // the client is closing now
      once_status = client->KeepAliveOnce(id).status();
      get_status = client->Get("k").status();
    }
  } calling;
  calling.client = (*client)->Share();
  Listener queued;
  const absl::Time start = absl::Now();
  absl::StatusOr<KeptLease> first = (*client)->Keep(51, &calling, {.ttl = absl::Seconds(1)});
  absl::StatusOr<KeptLease> second = (*client)->Keep(52, &queued, {.ttl = absl::Seconds(2)});
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(calling.entered.WaitForNotificationWithTimeout(absl::Seconds(5)));
  // The second deadline passes while the first loss's listener blocks.
  absl::SleepFor(start + absl::Milliseconds(2600) - absl::Now());
  EXPECT_TRUE(queued.losses().empty());
  calling.closing.Notify();
  const absl::Time closing = absl::Now();
  client->reset();
  EXPECT_LT(absl::Now() - closing, absl::Seconds(5));
  EXPECT_THAT(calling.once_status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(calling.get_status, StatusIs(absl::StatusCode::kCancelled));
  ASSERT_EQ(queued.losses().size(), 1u);
  EXPECT_EQ(queued.losses()[0].reason, LeaseLossReason::kDeadlinePassed);
  calling.client.reset();
}

// Destroying the client from inside one of its own callbacks is refused with a
// message on the runner too, which (unlike a stream's reader) would not wait
// for itself: the rest of the client would be freed under the callback.
TEST(LeaseCloseDeathTest, DestroyingTheClientFromALossAtItsDeadlineAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no threads forked
  EXPECT_DEATH(
      {
        absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
        if (!fake.ok()) return;
        (*fake)->lease().set_mode(FakeLeaseService::Mode::kSilent);
        ClientOptions options;
        options.endpoints = {(*fake)->endpoint()};
        options.request_timeout = absl::Seconds(1);
        absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
        if (!client.ok()) return;
        struct Destroys : LeaseListener {
          std::unique_ptr<Client>* client = nullptr;
          internal::Notification done;
          void OnLost(int64_t, const LeaseLoss&) override {
            client->reset();
            done.Notify();
          }
        } destroys;
        destroys.client = &*client;
        absl::StatusOr<KeptLease> kept = (*client)->Keep(61, &destroys, {.ttl = absl::Seconds(1)});
        destroys.done.WaitForNotificationWithTimeout(absl::Seconds(10));
      },
      "destroyed from inside one of its own callbacks");
}

// Two fake members: the first takes renewals and never answers (frozen); after
// the renewal time-out the stream moves to the second and renews there.
TEST(LeaseLivenessTest, UnansweredRenewalsMoveTheStreamToAnotherEndpoint) {
  absl::StatusOr<std::unique_ptr<FakeEtcd>> a = FakeEtcd::Start();
  absl::StatusOr<std::unique_ptr<FakeEtcd>> b = FakeEtcd::Start();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  (*a)->lease().set_mode(FakeLeaseService::Mode::kSilent);
  (*b)->lease().set_mode(FakeLeaseService::Mode::kSilent);
  ClientOptions options;
  options.endpoints = {(*a)->endpoint(), (*b)->endpoint()};
  options.liveness.renewal_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  Listener listener;
  absl::StatusOr<KeptLease> kept = (*client)->Keep(41, &listener, {.ttl = absl::Seconds(30)});
  ASSERT_THAT(kept, IsOk());
  FakeEtcd* first = nullptr;
  FakeEtcd* second = nullptr;
  for (absl::Time until = absl::Now() + absl::Seconds(5); absl::Now() < until && !first;) {
    if ((*a)->lease().requests().count(41)) first = a->get(), second = b->get();
    if ((*b)->lease().requests().count(41)) first = b->get(), second = a->get();
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_NE(first, nullptr);
  second->lease().set_mode(FakeLeaseService::Mode::kAnswer);
  const absl::Time sent = first->lease().requests()[41][0];
  ASSERT_TRUE(second->lease().WaitForRequests(41, 1, absl::Seconds(3)));
  const absl::Duration failover = second->lease().requests()[41][0] - sent;
  EXPECT_GE(failover, absl::Milliseconds(450));
  EXPECT_LT(failover, absl::Milliseconds(1500));
  for (absl::Time until = absl::Now() + absl::Seconds(3);
       absl::Now() < until && listener.renewals() == 0;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(listener.renewals(), 1);
  EXPECT_TRUE(listener.losses().empty());
  const ClientStats stats = (*client)->stats();
  EXPECT_EQ(stats.keepalive.stalls, 1u);
  EXPECT_EQ(stats.keepalive.endpoint, second->endpoint());
  bool first_suspect = false;
  for (const EndpointHealth& health : stats.endpoints) {
    if (health.address == first->endpoint()) first_suspect = health.suspect;
  }
  EXPECT_TRUE(first_suspect);
}

}  // namespace
}  // namespace etcdgrpc
