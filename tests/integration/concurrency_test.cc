// The concurrency library (sessions, locks, elections) on a real single etcd:
// lock and unlock, fair order of waiters, TryLock on a held lock, a deadline
// or a cancel while waiting leaves no key behind, a lost session is told to
// the holder at once and makes Lock fail at once, election campaign,
// proclaim, resign, leader and observe; and etcdctl's lock and elect as the
// other party (Go's key layout: each excludes the other).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/lease_id.h"
#include "common/mutex.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry_process.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "wait_until.h"

namespace etcdgrpc::concurrency {
namespace {

using ::etcdgrpc::internal::FormatLeaseId;
using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::HasSubstr;

// What a callback of the library reported, for the test thread to wait on.
class Heard {
 public:
  std::function<void(const absl::Status&)> Callback() {
    return [this](const absl::Status& why) {
      ::etcdgrpc::internal::MutexLock lock(&mu_);
      statuses_.push_back(why);
    };
  }
  std::vector<absl::Status> statuses() {
    ::etcdgrpc::internal::MutexLock lock(&mu_);
    return statuses_;
  }

 private:
  ::etcdgrpc::internal::Mutex mu_;
  std::vector<absl::Status> statuses_ ABSL_GUARDED_BY(mu_);
};

// Every leader an observation heard, in order.
class LeaderLog final : public ElectionListener {
 public:
  void OnLeader(const LeaderInfo& leader) override {
    ::etcdgrpc::internal::MutexLock lock(&mu_);
    values_.push_back(leader.kv.value);
  }
  void OnEnd(const absl::Status& why) override {
    ::etcdgrpc::internal::MutexLock lock(&mu_);
    end_ = why;
  }
  std::vector<std::string> values() {
    ::etcdgrpc::internal::MutexLock lock(&mu_);
    return values_;
  }
  bool Heard(const std::string& value) {
    std::vector<std::string> all = values();
    return std::find(all.begin(), all.end(), value) != all.end();
  }

 private:
  ::etcdgrpc::internal::Mutex mu_;
  std::vector<std::string> values_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
};

class ConcurrencyTest : public SharedEtcdTest {
 protected:
  std::shared_ptr<Session> NewSession(int64_t ttl = 10) {
    absl::StatusOr<std::shared_ptr<Session>> session =
        Session::Create(*client_, SessionOptions{.ttl_seconds = ttl});
    EXPECT_THAT(session, IsOk());
    if (!session.ok()) return nullptr;
    sessions_.push_back(*session);
    return *session;
  }
  void TearDown() override {
    for (auto& session : sessions_) (void)session->Close();
  }
  // The keys under `prefix`, oldest first.
  std::vector<std::string> Keys(const std::string& prefix) {
    absl::StatusOr<GetResult> got = client_->Range(
        KeyRange::Prefix(prefix),
        GetOptions{.sort_order = SortOrder::kAscend, .sort_target = SortTarget::kCreate});
    EXPECT_THAT(got, IsOk());
    std::vector<std::string> keys;
    if (got.ok()) {
      for (const KeyValue& kv : got->kvs) keys.push_back(kv.key);
    }
    return keys;
  }
  static std::string KeyFor(const std::string& name, const Session& session) {
    return absl::StrCat(name, "/", absl::Hex(session.lease_id()));
  }

  std::vector<std::shared_ptr<Session>> sessions_;
};

TEST_F(ConcurrencyTest, LockAndUnlockUseGosKeyLayout) {
  std::shared_ptr<Session> session = NewSession();
  ASSERT_NE(session, nullptr);
  const std::string name = TestPrefix() + "lock";
  Mutex mutex(session, name);
  EXPECT_THAT(mutex.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(mutex.Lock(), IsOk());
  EXPECT_THAT(mutex.status(), IsOk());
  EXPECT_EQ(mutex.key(), KeyFor(name, *session));
  EXPECT_GT(mutex.revision(), 0);
  EXPECT_EQ(mutex.header().revision, mutex.revision());
  EXPECT_EQ(Keys(name + "/"), std::vector<std::string>{mutex.key()});
  // Locking again while holding it: at once, same key.
  ASSERT_THAT(mutex.Lock(), IsOk());
  // The owner compare guards a transaction.
  TxnRequest guarded;
  guarded.If(mutex.IsOwner()).Then(Op::Put(TestPrefix() + "guarded", "v"));
  absl::StatusOr<TxnResult> txn = client_->Txn(guarded);
  ASSERT_THAT(txn, IsOk());
  EXPECT_TRUE(txn->succeeded);
  ASSERT_THAT(mutex.Unlock(), IsOk());
  EXPECT_TRUE(Keys(name + "/").empty());
  EXPECT_THAT(mutex.Unlock(), StatusIs(absl::StatusCode::kFailedPrecondition));
  txn = client_->Txn(guarded);
  ASSERT_THAT(txn, IsOk());
  EXPECT_FALSE(txn->succeeded);
}

TEST_F(ConcurrencyTest, ThreeWaitersAcquireInCreateRevisionOrder) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> holder_session = NewSession();
  ASSERT_NE(holder_session, nullptr);
  Mutex holder(holder_session, name);
  ASSERT_THAT(holder.Lock(), IsOk());

  ::etcdgrpc::internal::Mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Mutex>> waiters;
  for (int i = 0; i < 3; ++i) {
    std::shared_ptr<Session> session = NewSession();
    ASSERT_NE(session, nullptr);
    waiters.push_back(std::make_unique<Mutex>(session, name));
    Mutex* waiter = waiters.back().get();
    threads.emplace_back([&, waiter, i] {
      absl::Status locked = waiter->Lock(WaitOptions{.deadline = absl::Now() + absl::Seconds(20)});
      EXPECT_THAT(locked, IsOk());
      {
        ::etcdgrpc::internal::MutexLock lock(&mu);
        order.push_back(i);
      }
      absl::SleepFor(absl::Milliseconds(20));
      EXPECT_THAT(waiter->Unlock(), IsOk());
    });
    // Each waiter's key is in before the next one starts: that is the order.
    ASSERT_TRUE(WaitUntil([&] { return Keys(name + "/").size() == static_cast<size_t>(i + 2); },
                          absl::Seconds(5)));
  }
  absl::SleepFor(absl::Milliseconds(100));
  {
    ::etcdgrpc::internal::MutexLock lock(&mu);
    EXPECT_TRUE(order.empty());
  }
  ASSERT_THAT(holder.Unlock(), IsOk());
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(Keys(name + "/").empty());
}

TEST_F(ConcurrencyTest, TryLockOnAHeldLockFailsAndLeavesNoKey) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> a = NewSession();
  std::shared_ptr<Session> b = NewSession();
  ASSERT_TRUE(a && b);
  Mutex holder(a, name);
  Mutex other(b, name);
  ASSERT_THAT(holder.TryLock(), IsOk());
  EXPECT_THAT(other.TryLock(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("locked by another session")));
  EXPECT_EQ(Keys(name + "/"), std::vector<std::string>{holder.key()});
  ASSERT_THAT(holder.Unlock(), IsOk());
  EXPECT_THAT(other.TryLock(), IsOk());
  EXPECT_EQ(other.key(), KeyFor(name, *b));
  EXPECT_THAT(other.Unlock(), IsOk());
}

TEST_F(ConcurrencyTest, DeadlineOrCancelWhileWaitingLeavesNoKey) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> a = NewSession();
  std::shared_ptr<Session> b = NewSession();
  ASSERT_TRUE(a && b);
  Mutex holder(a, name);
  ASSERT_THAT(holder.Lock(), IsOk());
  Mutex waiter(b, name);
  const absl::Time start = absl::Now();
  EXPECT_THAT(waiter.Lock(WaitOptions{.deadline = absl::Now() + absl::Milliseconds(300)}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(Keys(name + "/"), std::vector<std::string>{holder.key()});

  Canceller canceller;
  std::thread cancel([&] {
    absl::SleepFor(absl::Milliseconds(200));
    canceller.Cancel();
  });
  EXPECT_THAT(waiter.Lock(WaitOptions{.canceller = &canceller}),
              StatusIs(absl::StatusCode::kCancelled));
  cancel.join();
  EXPECT_EQ(Keys(name + "/"), std::vector<std::string>{holder.key()});
  // A cancelled canceller fails the next wait at once.
  EXPECT_THAT(waiter.Lock(WaitOptions{.canceller = &canceller}),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(holder.Unlock(), IsOk());
}

TEST_F(ConcurrencyTest, LostSessionIsToldToTheHolderAndLockFailsAtOnce) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> session = NewSession(/*ttl=*/30);
  std::shared_ptr<Session> other = NewSession();
  ASSERT_TRUE(session && other);
  Heard heard;
  Mutex holder(session, name, MutexOptions{.on_lost = heard.Callback()});
  ASSERT_THAT(holder.Lock(), IsOk());
  // A waiter on the same session's lease... and one of another session
  // behind it, which must get the lock.
  Mutex next(other, name);
  std::atomic<bool> next_locked{false};
  std::thread waiter([&] {
    EXPECT_THAT(next.Lock(WaitOptions{.deadline = absl::Now() + absl::Seconds(10)}), IsOk());
    next_locked = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return Keys(name + "/").size() == 2; }, absl::Seconds(5)));

  // Someone else revokes the session's lease: the holder hears it from its
  // key's deletion, long before the next renewal (TTL 30 s: every 10 s).
  std::unique_ptr<Client> revoker = ::etcdgrpc::testing::ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(revoker, nullptr);
  const absl::Time revoked_at = absl::Now();
  ASSERT_THAT(revoker->Revoke(session->lease_id()), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return !heard.statuses().empty(); }, absl::Seconds(3)));
  EXPECT_LT(absl::Now() - revoked_at, absl::Seconds(1));
  EXPECT_THAT(heard.statuses()[0],
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("was deleted")));
  EXPECT_THAT(holder.status(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lost")));
  waiter.join();
  EXPECT_TRUE(next_locked);

  // Lock on the lost session fails at once, naming the lease, and the
  // session knows it from then on.
  Mutex again(session, name + "-2");
  const absl::Time start = absl::Now();
  EXPECT_THAT(again.Lock(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     HasSubstr(FormatLeaseId(session->lease_id()))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_THAT(session->status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(again.TryLock(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(Keys(name + "-2/").empty());
  EXPECT_THAT(holder.Unlock(), IsOk());  // the key is gone already
  EXPECT_THAT(next.Unlock(), IsOk());
  EXPECT_EQ(heard.statuses().size(), 1u);
}

TEST_F(ConcurrencyTest, SessionTellsSubscribersOnceAndClosesWithRevoke) {
  std::shared_ptr<Session> session = NewSession();
  ASSERT_NE(session, nullptr);
  Heard heard;
  SessionSubscription subscription = session->OnLoss(heard.Callback());
  EXPECT_THAT(session->status(), IsOk());
  Mutex mutex(session, TestPrefix() + "lock");
  ASSERT_THAT(mutex.Lock(), IsOk());
  ASSERT_THAT(session->Close(), IsOk());
  ASSERT_EQ(heard.statuses().size(), 1u);
  EXPECT_THAT(heard.statuses()[0],
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("closed")));
  // Revoked: the lock's key went with the lease.
  EXPECT_TRUE(Keys(TestPrefix() + "lock/").empty());
  absl::StatusOr<LeaseTimeToLiveResult> ttl = client_->TimeToLive(session->lease_id());
  ASSERT_THAT(ttl, IsOk());
  EXPECT_EQ(ttl->ttl, -1);
  // A late subscriber hears it at once.
  Heard late;
  SessionSubscription late_subscription = session->OnLoss(late.Callback());
  EXPECT_EQ(late.statuses().size(), 1u);
  // Sessions on an existing lease: NOT_FOUND for a lease etcd does not have.
  EXPECT_THAT(Session::Create(*client_, SessionOptions{.lease_id = session->lease_id()}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConcurrencyTest, ElectionCampaignProclaimResignLeaderObserve) {
  const std::string name = TestPrefix() + "election";
  std::shared_ptr<Session> a = NewSession();
  std::shared_ptr<Session> b = NewSession();
  std::shared_ptr<Session> watcher = NewSession();
  ASSERT_TRUE(a && b && watcher);
  Election first(a, name);
  Election second(b, name);
  Election observer(watcher, name);
  EXPECT_THAT(observer.Leader(), StatusIs(absl::StatusCode::kNotFound, "election: no leader"));
  EXPECT_THAT(first.Proclaim("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition, "election: not leader"));

  LeaderLog log;
  absl::StatusOr<ElectionObservation> observation = observer.Observe(&log);
  ASSERT_THAT(observation, IsOk());

  ASSERT_THAT(first.Campaign("a1"), IsOk());
  EXPECT_EQ(first.key(), KeyFor(name, *a));
  EXPECT_THAT(first.status(), IsOk());
  absl::StatusOr<LeaderInfo> leader = observer.Leader();
  ASSERT_THAT(leader, IsOk());
  EXPECT_EQ(leader->kv.key, first.key());
  EXPECT_EQ(leader->kv.value, "a1");
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("a1"); }, absl::Seconds(5)));

  std::atomic<bool> second_leads{false};
  std::thread campaign([&] {
    EXPECT_THAT(second.Campaign("b1", WaitOptions{.deadline = absl::Now() + absl::Seconds(10)}),
                IsOk());
    second_leads = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return Keys(name + "/").size() == 2; }, absl::Seconds(5)));
  ASSERT_THAT(first.Proclaim("a2"), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("a2"); }, absl::Seconds(5)));
  EXPECT_FALSE(second_leads);
  EXPECT_THAT(second.Proclaim("b2"), StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_THAT(first.Resign(), IsOk());
  campaign.join();
  EXPECT_TRUE(second_leads);
  EXPECT_THAT(first.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  leader = observer.Leader();
  ASSERT_THAT(leader, IsOk());
  EXPECT_EQ(leader->kv.value, "b1");
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("b1"); }, absl::Seconds(5)));
  EXPECT_EQ(log.values(), (std::vector<std::string>{"a1", "a2", "b1"}));
  EXPECT_THAT(first.Resign(), IsOk());  // not leading: nothing to do
  ASSERT_THAT(second.Resign(), IsOk());
  EXPECT_TRUE(Keys(name + "/").empty());
  // The observation waits for the next candidate.
  ASSERT_THAT(first.Campaign("a3"), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("a3"); }, absl::Seconds(5)));
  observation->Cancel();
  ASSERT_THAT(first.Resign(), IsOk());
}

TEST_F(ConcurrencyTest, LostLeadershipIsToldAndCampaignFailsAtOnce) {
  const std::string name = TestPrefix() + "election";
  std::shared_ptr<Session> session = NewSession(/*ttl=*/30);
  ASSERT_NE(session, nullptr);
  Heard heard;
  Election election(session, name, ElectionOptions{.on_lost = heard.Callback()});
  ASSERT_THAT(election.Campaign("v"), IsOk());
  ASSERT_THAT(client_->Revoke(session->lease_id()), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return !heard.statuses().empty(); }, absl::Seconds(3)));
  EXPECT_THAT(election.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  const absl::Time start = absl::Now();
  EXPECT_THAT(election.Campaign("w"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                               HasSubstr(FormatLeaseId(session->lease_id()))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(Keys(name + "/").empty());
}

// ---- callbacks that give up what called them, failures that leave keys ----

// The lease is revoked by another client: the own-key watch hears the delete
// and runs on_lost, which destroys the Mutex (its claim and watch with it)
// while the library is still on the stack below the callback.
TEST_F(ConcurrencyTest, OnLostMayDestroyTheMutex) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> session = NewSession(/*ttl=*/30);
  ASSERT_NE(session, nullptr);
  std::unique_ptr<Mutex> mutex;
  std::atomic<bool> destroyed{false};
  mutex = std::make_unique<Mutex>(session, name, MutexOptions{.on_lost = [&](const absl::Status&) {
                                    mutex.reset();
                                    destroyed = true;
                                  }});
  ASSERT_THAT(mutex->Lock(), IsOk());
  std::unique_ptr<Client> revoker = ::etcdgrpc::testing::ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(revoker, nullptr);
  ASSERT_THAT(revoker->Revoke(session->lease_id()), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return destroyed.load(); }, absl::Seconds(5)));
}

// The same for an Election: on_lost destroys it.
TEST_F(ConcurrencyTest, OnLostMayDestroyTheElection) {
  const std::string name = TestPrefix() + "election";
  std::shared_ptr<Session> session = NewSession(/*ttl=*/30);
  ASSERT_NE(session, nullptr);
  std::unique_ptr<Election> election;
  std::atomic<bool> destroyed{false};
  election = std::make_unique<Election>(session, name,
                                        ElectionOptions{.on_lost = [&](const absl::Status&) {
                                          election.reset();
                                          destroyed = true;
                                        }});
  ASSERT_THAT(election->Campaign("v"), IsOk());
  std::unique_ptr<Client> revoker = ::etcdgrpc::testing::ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(revoker, nullptr);
  ASSERT_THAT(revoker->Revoke(session->lease_id()), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return destroyed.load(); }, absl::Seconds(5)));
}

// The same, with on_lost unlocking and locking again.
TEST_F(ConcurrencyTest, OnLostMayUnlockAndLockAgain) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> session = NewSession(/*ttl=*/30);
  ASSERT_NE(session, nullptr);
  std::atomic<bool> done{false};
  absl::Status unlocked;
  absl::Status relocked;
  Mutex* self = nullptr;
  Mutex mutex(session, name, MutexOptions{.on_lost = [&](const absl::Status&) {
                unlocked = self->Unlock();
                relocked = self->Lock(WaitOptions{.deadline = absl::Now() + absl::Seconds(2)});
                done = true;
              }});
  self = &mutex;
  ASSERT_THAT(mutex.Lock(), IsOk());
  std::unique_ptr<Client> revoker = ::etcdgrpc::testing::ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(revoker, nullptr);
  ASSERT_THAT(revoker->Revoke(session->lease_id()), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }, absl::Seconds(5)));
  EXPECT_THAT(unlocked, IsOk());  // the key is gone already
  EXPECT_FALSE(relocked.ok());    // the lease is gone
  EXPECT_TRUE(Keys(name + "/").empty());
}

// An observer's listener drops its own observation from inside OnLeader.
class DropOnLeader final : public ElectionListener {
 public:
  void OnLeader(const LeaderInfo&) override {
    observation.reset();
    dropped = true;
  }
  void OnEnd(const absl::Status&) override {}
  std::optional<ElectionObservation> observation;
  std::atomic<bool> dropped{false};
};

TEST_F(ConcurrencyTest, OnLeaderMayDropItsObservation) {
  const std::string name = TestPrefix() + "election";
  std::shared_ptr<Session> session = NewSession();
  ASSERT_NE(session, nullptr);
  Election election(session, name);
  DropOnLeader listener;
  absl::StatusOr<ElectionObservation> observation = election.Observe(&listener);
  ASSERT_THAT(observation, IsOk());
  listener.observation.emplace(*std::move(observation));
  ASSERT_THAT(election.Campaign("v"), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return listener.dropped.load(); }, absl::Seconds(5)));
  EXPECT_THAT(election.Resign(), IsOk());
}

// Go's TryLock deletes the session's key when the lock is busy, even a key
// that this call found there rather than wrote.
TEST_F(ConcurrencyTest, BusyTryLockDeletesTheSessionsExistingKey) {
  const std::string name = TestPrefix() + "lock";
  std::shared_ptr<Session> a = NewSession();
  std::shared_ptr<Session> b = NewSession();
  ASSERT_TRUE(a && b);
  Mutex holder(a, name);
  ASSERT_THAT(holder.Lock(), IsOk());
  // Left behind by an earlier user of b's lease (a Session on the same lease_id).
  ASSERT_THAT(client_->Put(KeyFor(name, *b), "", PutOptions{.lease = b->lease_id()}), IsOk());
  Mutex other(b, name);
  EXPECT_THAT(other.TryLock(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(Keys(name + "/"), std::vector<std::string>{holder.key()});
  EXPECT_THAT(holder.Unlock(), IsOk());
}

// A Resign whose delete fails (etcd stopped: the request never reaches it)
// keeps the key, and the next Resign deletes it rather than answering OK.
TEST_F(ConcurrencyTest, FailedResignIsRetriedByTheNextResign) {
  const std::string name = TestPrefix() + "election";
  std::unique_ptr<Client> client = ::etcdgrpc::testing::ConnectTo(
      etcd_->ClientEndpoints(), {.request_timeout = absl::Milliseconds(500)});
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::shared_ptr<Session>> session =
      Session::Create(*client, SessionOptions{.ttl_seconds = 30});
  ASSERT_THAT(session, IsOk());
  {
    Election election(*session, name);
    ASSERT_THAT(election.Campaign("v"), IsOk());
    ASSERT_THAT(etcd_->Stop(0), IsOk());
    absl::Status resigned = election.Resign();
    ASSERT_THAT(etcd_->Restart(0), IsOk());  // the lease and the key come back with it
    EXPECT_FALSE(resigned.ok());
    EXPECT_EQ(Keys(name + "/").size(), 1u);
    EXPECT_TRUE(WaitUntil([&] { return election.Resign().ok(); }, absl::Seconds(5)));
    EXPECT_TRUE(Keys(name + "/").empty());
  }
  EXPECT_THAT((*session)->Close(), IsOk());
}

// ---- etcdctl as the other party ----------------------------------------------

class ConcurrencyEtcdctlTest : public ConcurrencyTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ConcurrencyTest::SetUp());
    if (access("/usr/bin/etcdctl", X_OK) != 0) GTEST_SKIP() << "etcdctl not installed";
  }
  std::unique_ptr<ChildProcess> Etcdctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl",
                                     "--endpoints=" + etcd_->EndpointsFlag()};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>(argv);
  }
};

TEST_F(ConcurrencyEtcdctlTest, EtcdctlLockAndOursExcludeEachOther) {
  const std::string name = TestPrefix() + "lock";
  std::unique_ptr<ChildProcess> ctl = Etcdctl({"lock", name});
  std::optional<std::string> ctl_key = ctl->ReadLine(absl::Seconds(5));
  ASSERT_TRUE(ctl_key.has_value()) << ctl->err();
  EXPECT_TRUE(absl::StartsWith(*ctl_key, name + "/"));

  std::shared_ptr<Session> session = NewSession();
  ASSERT_NE(session, nullptr);
  Mutex ours(session, name);
  EXPECT_THAT(ours.TryLock(), StatusIs(absl::StatusCode::kAborted, HasSubstr(*ctl_key)));
  std::atomic<bool> locked{false};
  std::thread waiter([&] {
    EXPECT_THAT(ours.Lock(WaitOptions{.deadline = absl::Now() + absl::Seconds(10)}), IsOk());
    locked = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(locked);
  ctl->Signal(SIGINT);  // etcdctl unlocks and exits 0
  EXPECT_EQ(ctl->Wait(absl::Seconds(5)), 0);
  waiter.join();
  EXPECT_TRUE(locked);

  // Now etcdctl waits behind us.
  std::unique_ptr<ChildProcess> second = Etcdctl({"lock", name});
  EXPECT_FALSE(second->ReadLine(absl::Milliseconds(500)).has_value());
  ASSERT_THAT(ours.Unlock(), IsOk());
  std::optional<std::string> second_key = second->ReadLine(absl::Seconds(5));
  ASSERT_TRUE(second_key.has_value());
  EXPECT_TRUE(absl::StartsWith(*second_key, name + "/"));
  second->Signal(SIGINT);
  EXPECT_EQ(second->Wait(absl::Seconds(5)), 0);
}

TEST_F(ConcurrencyEtcdctlTest, EtcdctlElectAndOursFollowTheSameLeader) {
  const std::string name = TestPrefix() + "election";
  std::unique_ptr<ChildProcess> listener = Etcdctl({"elect", "-l", name});
  std::unique_ptr<ChildProcess> ctl = Etcdctl({"elect", name, "from-etcdctl"});
  std::optional<std::string> ctl_key = ctl->ReadLine(absl::Seconds(5));
  ASSERT_TRUE(ctl_key.has_value()) << ctl->err();
  EXPECT_EQ(ctl->ReadLine(absl::Seconds(5)), "from-etcdctl");

  std::shared_ptr<Session> session = NewSession();
  ASSERT_NE(session, nullptr);
  Election ours(session, name);
  absl::StatusOr<LeaderInfo> leader = ours.Leader();
  ASSERT_THAT(leader, IsOk());
  EXPECT_EQ(leader->kv.key, *ctl_key);
  LeaderLog log;
  absl::StatusOr<ElectionObservation> observation = ours.Observe(&log);
  ASSERT_THAT(observation, IsOk());
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("from-etcdctl"); }, absl::Seconds(5)));

  std::atomic<bool> leading{false};
  std::thread campaign([&] {
    EXPECT_THAT(ours.Campaign("ours", WaitOptions{.deadline = absl::Now() + absl::Seconds(10)}),
                IsOk());
    leading = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(leading);
  ctl->Signal(SIGINT);  // etcdctl resigns
  EXPECT_EQ(ctl->Wait(absl::Seconds(5)), 0);
  campaign.join();
  EXPECT_TRUE(leading);
  EXPECT_TRUE(WaitUntil([&] { return log.Heard("ours"); }, absl::Seconds(5)));
  // etcdctl's listener saw both leaders.
  std::vector<std::string> heard;
  while (heard.size() < 4) {
    std::optional<std::string> line = listener->ReadLine(absl::Seconds(5));
    if (!line) break;
    heard.push_back(*line);
  }
  EXPECT_EQ(heard, (std::vector<std::string>{*ctl_key, "from-etcdctl", ours.key(), "ours"}));
  ASSERT_THAT(ours.Resign(), IsOk());
  listener->Signal(SIGINT);
  EXPECT_EQ(listener->Wait(absl::Seconds(5)), 0);
}

}  // namespace
}  // namespace etcdgrpc::concurrency
