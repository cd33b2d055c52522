// The resolver when things go wrong around it, on real etcd: the Client,
// Resolver, views, subscriptions, balancers and picks destroyed in various
// orders; listeners that throw, block, or cancel their own subscription (or
// destroy the Resolver); endpoints kept through an outage and a loss of
// quorum, and changed only when the registry says so.
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "resolver_waits.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::registry::ServiceInstance;
using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestClientOptions;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitForRevision;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What one subscription heard, as "+id"/"-id"/"~id" per update and
// "end:<code>" for OnEnd; `react` (if set) runs inside each OnUpdate.
class RecordingListener : public ServiceListener {
 public:
  void OnUpdate(const EndpointSet& endpoints, const EndpointChanges& changes) override {
    std::vector<std::string> update;
    for (const auto& e : changes.added) update.push_back("+" + e->instance.id);
    for (const auto& e : changes.removed) update.push_back("-" + e->instance.id);
    for (const auto& e : changes.updated) update.push_back("~" + e->instance.id);
    int count;
    {
      absl::MutexLock lock(&mu_);
      if (ended_) overlapped_ = true;
      updates_.push_back(absl::StrJoin(update, ","));
      revision_ = endpoints.revision;
      count = static_cast<int>(updates_.size());
    }
    if (react) react(count);
  }
  void OnEnd(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    if (ended_) overlapped_ = true;
    ended_ = true;
    end_ = status;
  }
  std::vector<std::string> updates() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }
  std::optional<absl::Status> end() {
    absl::MutexLock lock(&mu_);
    if (!ended_) return std::nullopt;
    return end_;
  }
  // A call after OnEnd (or a second OnEnd).
  bool called_after_end() {
    absl::MutexLock lock(&mu_);
    return overlapped_;
  }
  bool WaitForUpdates(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    return Wait([n](RecordingListener* self)
                    ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->updates_.size() >= n; },
                timeout);
  }
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(10)) {
    return Wait([](RecordingListener* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->ended_; },
                timeout);
  }

  std::function<void(int)> react;

 private:
  template <class F>
  bool Wait(F pred, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return pred(this); };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

  absl::Mutex mu_;
  std::vector<std::string> updates_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool overlapped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu_);
};

// The resolver fault tests' clients: 3 s calls.
const TestClientOptions kResolverClient = {.request_timeout = absl::Seconds(3)};

ServiceInstance Instance(const std::string& id, int port) {
  return ServiceInstance{.service = "svc", .id = id, .address = absl::StrCat("127.0.0.1:", port)};
}

// client_ writes the records; each test gives the resolver a client of its own.
class ResolverFaultsTest : public SharedEtcdTest {
 protected:
  ResolverFaultsTest() : SharedEtcdTest(kResolverClient) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix() + "services";
  }
  // Writes the instance's record (no lease) with the test's own client.
  int64_t Put(const ServiceInstance& instance) {
    absl::StatusOr<PutResult> put =
        client_->Put(codec_->Key(prefix_, instance), codec_->Encode(instance).value_or(""));
    EXPECT_THAT(put, IsOk());
    return put.ok() ? put->header.revision : 0;
  }
  // Put, then wait until `view` shows it: writes made one by one reach the
  // view as separate updates (a watch catching up may batch several).
  int64_t PutAndWait(const ServiceView& view, const ServiceInstance& instance) {
    const int64_t revision = Put(instance);
    EXPECT_TRUE(WaitForRevision(view, revision));
    return revision;
  }
  int64_t Delete(const ServiceInstance& instance) {
    absl::StatusOr<DeleteResult> deleted = client_->Delete(codec_->Key(prefix_, instance));
    EXPECT_THAT(deleted, IsOk());
    return deleted.ok() ? deleted->header.revision : 0;
  }

  std::string prefix_;
  std::shared_ptr<const registry::Codec> codec_ = registry::NativeCodec();
};

// --- Destruction orders -----------------------------------------------------

// C(lient), R(esolver), B(alancer), V(iew), S(ubscription), P(ick), destroyed
// in the order of the parameter; everything still alive is used after each
// step (ASan reports what would reach freed memory).
class DestructionOrderTest : public ResolverFaultsTest,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(DestructionOrderTest, EverythingStillHeldKeepsWorking) {
  const std::string order = GetParam();
  Put(Instance("a", 1));
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints(), kResolverClient);
  ASSERT_NE(client, nullptr);
  auto resolver = std::make_unique<Resolver>(
      *client, ResolverOptions{.prefix = prefix_, .health_poll_interval = absl::Milliseconds(1)});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver->Watch("svc"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> balancer, resolver->Balance("svc"));
  RecordingListener listener;
  auto subscription = std::make_unique<ServiceView::Subscription>(view->Subscribe(&listener));
  ASSERT_OK_AND_ASSIGN(PickResult picked, balancer->Pick());
  auto pick = std::make_unique<PickResult>(std::move(picked));
  bool ended_by_us = false;

  auto use_what_is_left = [&] {
    if (view != nullptr) {
      EXPECT_EQ(view->snapshot()->endpoints.size(), 1u);
    }
    if (balancer != nullptr) {
      absl::StatusOr<PickResult> another = balancer->Pick();
      EXPECT_THAT(another, IsOk());
      if (another.ok()) {
        EXPECT_NE(another->channel(), nullptr);
      }
    }
    if (pick != nullptr) {
      EXPECT_NE(pick->channel(), nullptr);
      EXPECT_EQ(pick->endpoint().instance.id, "a");
    }
    if (resolver != nullptr) (void)resolver->channels();
  };
  for (char what : order) {
    switch (what) {
      case 'C':
        client.reset();
        break;
      case 'R':
        resolver.reset();
        break;
      case 'B':
        balancer.reset();
        break;
      case 'V':
        view.reset();
        break;
      case 'S':
        // Cancelled before anything ended it: it hears no OnEnd.
        if (!listener.end().has_value()) ended_by_us = true;
        subscription.reset();
        break;
      case 'P':
        pick->Done(grpc::Status::OK);
        pick.reset();
        break;
    }
    if (what == 'C' && subscription != nullptr && resolver != nullptr) {
      ASSERT_TRUE(listener.WaitForEnd());
      EXPECT_THAT(*listener.end(),
                  StatusIs(absl::StatusCode::kCancelled, HasSubstr("the client was closed")));
    }
    if (what == 'R' && subscription != nullptr) {
      ASSERT_TRUE(listener.end().has_value());  // before ~Resolver returned
    }
    use_what_is_left();
  }
  EXPECT_FALSE(listener.called_after_end());
  if (ended_by_us) {
    EXPECT_FALSE(listener.end().has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(SomeOrders, DestructionOrderTest,
                         ::testing::Values("CRBVSP",  // client first
                                           "RCPBVS",  // resolver first
                                           "RBVSPC",  // resolver, then what it made
                                           "PBVSRC",  // everything it made, then it
                                           "SVBRCP",  // the pick last
                                           "CPSBVR",  // client, then the resolver last
                                           "BRCVSP"));

// --- Listeners --------------------------------------------------------------

TEST_F(ResolverFaultsTest, AListenerThatThrowsEndsOnlyItsOwnSubscription) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints(), kResolverClient);
  ASSERT_NE(client, nullptr);
  Resolver resolver(*client, {.prefix = prefix_});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  RecordingListener before, thrower, after;
  thrower.react = [](int count) {
    if (count == 2) throw std::runtime_error("service listener boom");
  };
  ServiceView::Subscription s1 = view->Subscribe(&before);
  ServiceView::Subscription s2 = view->Subscribe(&thrower);
  ServiceView::Subscription s3 = view->Subscribe(&after);
  PutAndWait(*view, Instance("a", 1));
  PutAndWait(*view, Instance("b", 2));
  PutAndWait(*view, Instance("c", 3));
  // Everyone else hears every update, in order (the first is the empty set).
  ASSERT_TRUE(before.WaitForUpdates(4)) << absl::StrJoin(before.updates(), " ");
  ASSERT_TRUE(after.WaitForUpdates(4)) << absl::StrJoin(after.updates(), " ");
  EXPECT_THAT(before.updates(), ElementsAre("", "+a", "+b", "+c"));
  EXPECT_THAT(after.updates(), ElementsAre("", "+a", "+b", "+c"));
  // The thrower heard its end, with the exception's text, and nothing more.
  ASSERT_TRUE(thrower.WaitForEnd());
  EXPECT_THAT(*thrower.end(),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("service listener boom")));
  EXPECT_THAT(thrower.updates(), ElementsAre("", "+a"));
  EXPECT_FALSE(thrower.called_after_end());
  // Its handle still cancels (at once), and the others go on.
  s2.Cancel();
  const int64_t later = Delete(Instance("a", 1));
  ASSERT_TRUE(WaitForRevision(*view, later));
  ASSERT_TRUE(after.WaitForUpdates(5));
  EXPECT_EQ(after.updates().back(), "-a");
}

TEST_F(ResolverFaultsTest, AListenerThatBlocksDelaysOnlyItsOwnCalls) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints(), kResolverClient);
  ASSERT_NE(client, nullptr);
  Resolver resolver(*client, {.prefix = prefix_});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> balancer,
                       resolver.Balance("svc", {.wait_for_endpoints = absl::Seconds(5)}));
  absl::Notification release;
  RecordingListener blocked, other;
  blocked.react = [&](int count) {
    if (count == 2) release.WaitForNotificationWithTimeout(absl::Seconds(30));
  };
  ServiceView::Subscription s1 = view->Subscribe(&blocked);
  ServiceView::Subscription s2 = view->Subscribe(&other);
  PutAndWait(*view, Instance("a", 1));
  ASSERT_TRUE(blocked.WaitForUpdates(2));  // now blocked inside "+a"
  PutAndWait(*view, Instance("b", 2));
  // The view, the balancer and the other subscriber go on.
  PutAndWait(*view, Instance("c", 3));
  EXPECT_EQ(view->snapshot()->endpoints.size(), 3u);
  ASSERT_TRUE(other.WaitForUpdates(4));
  EXPECT_THAT(other.updates(), ElementsAre("", "+a", "+b", "+c"));
  EXPECT_TRUE(WaitUntil([&] { return balancer->eligible() == 3u; }, absl::Seconds(5),
                        absl::Milliseconds(5)))
      << balancer->eligible() << " eligible";
  EXPECT_EQ(blocked.updates().size(), 2u);
  // Released, it hears the rest, in order, nothing skipped.
  release.Notify();
  ASSERT_TRUE(blocked.WaitForUpdates(4));
  EXPECT_THAT(blocked.updates(), ElementsAre("", "+a", "+b", "+c"));
}

TEST_F(ResolverFaultsTest, AListenerMayCancelItsOwnSubscriptionOrDestroyTheResolver) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints(), kResolverClient);
  ASSERT_NE(client, nullptr);
  auto resolver = std::make_unique<Resolver>(*client, ResolverOptions{.prefix = prefix_});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver->Watch("svc"));
  RecordingListener cancelling, destroying;
  std::unique_ptr<ServiceView::Subscription> own;
  cancelling.react = [&](int count) {
    if (count == 2) own.reset();  // from inside its own call
  };
  absl::Notification destroyed;
  destroying.react = [&](int count) {
    if (count == 3) {
      resolver.reset();
      destroyed.Notify();
    }
  };
  own = std::make_unique<ServiceView::Subscription>(view->Subscribe(&cancelling));
  ServiceView::Subscription other = view->Subscribe(&destroying);
  PutAndWait(*view, Instance("a", 1));
  ASSERT_TRUE(cancelling.WaitForUpdates(2));
  PutAndWait(*view, Instance("b", 2));
  ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The Resolver's end reached the subscriber that destroyed it, after that
  // call returned.
  ASSERT_TRUE(destroying.WaitForEnd());
  EXPECT_THAT(*destroying.end(),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("the resolver was destroyed")));
  EXPECT_THAT(cancelling.updates(), ElementsAre("", "+a"));
  EXPECT_FALSE(cancelling.end().has_value());
  // The view keeps its last snapshot.
  EXPECT_EQ(view->snapshot()->endpoints.size(), 2u);
}

// --- Outages ----------------------------------------------------------------

// A 3-member cluster; records written without leases, so only deletes remove
// them.
TEST(ResolverOutageTest, EndpointsStayThroughALossOfQuorumAndAnOutage) {
  etcdgrpc::testing::LocalEtcdOptions options;
  options.members = 3;
  absl::StatusOr<std::unique_ptr<LocalEtcd>> cluster = LocalEtcd::Start(options);
  ASSERT_THAT(cluster, IsOk());
  std::unique_ptr<Client> client =
      ConnectTo((*cluster)->ClientEndpoints(), {.request_timeout = absl::Seconds(1)});
  ASSERT_NE(client, nullptr);
  auto codec = registry::NativeCodec();
  for (const ServiceInstance& instance : {Instance("a", 1), Instance("b", 2)}) {
    ASSERT_THAT(client->Put(codec->Key("/services", instance), *codec->Encode(instance)), IsOk());
  }
  Resolver resolver(*client);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> balancer, resolver.Balance("svc"));
  RecordingListener listener;
  ServiceView::Subscription subscription = view->Subscribe(&listener);
  ASSERT_EQ(view->snapshot()->endpoints.size(), 2u);
  const int64_t revision = view->snapshot()->revision;

  auto still_two = [&](const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(view->snapshot()->endpoints.size(), 2u);
    EXPECT_EQ(view->snapshot()->revision, revision);
    EXPECT_EQ(balancer->eligible(), 2u);
    absl::StatusOr<PickResult> pick = balancer->Pick();
    EXPECT_THAT(pick, IsOk());
    EXPECT_THAT(listener.updates(), ElementsAre("+a,+b"));
    EXPECT_FALSE(listener.end().has_value());
  };
  // Two of three members gone: no quorum, no leader; the one left answers
  // nothing (require_leader) and ends streams.
  ASSERT_THAT((*cluster)->Kill(1), IsOk());
  ASSERT_THAT((*cluster)->Kill(2), IsOk());
  absl::SleepFor(absl::Seconds(4));
  still_two("without quorum");
  // Then nothing at all.
  ASSERT_THAT((*cluster)->Kill(0), IsOk());
  absl::SleepFor(absl::Seconds(3));
  still_two("with every member down");

  ASSERT_THAT((*cluster)->RestartAll(), IsOk());
  // Back: a change made now is seen; the registry saying so empties it.
  absl::StatusOr<DeleteResult> deleted = client->Delete(codec->Key("/services", Instance("a", 1)));
  for (int i = 0; i < 20 && !deleted.ok(); ++i) {  // the client finds the new leader
    absl::SleepFor(absl::Milliseconds(250));
    deleted = client->Delete(codec->Key("/services", Instance("a", 1)));
  }
  ASSERT_THAT(deleted, IsOk());
  ASSERT_TRUE(WaitForRevision(*view, deleted->header.revision, absl::Seconds(20)));
  EXPECT_EQ(view->snapshot()->endpoints.size(), 1u);
  ASSERT_OK_AND_ASSIGN(DeleteResult last,
                       client->Delete(codec->Key("/services", Instance("b", 2))));
  ASSERT_TRUE(WaitForRevision(*view, last.header.revision, absl::Seconds(20)));
  EXPECT_TRUE(view->snapshot()->endpoints.empty());
  ASSERT_TRUE(listener.WaitForUpdates(3));  // listener calls follow the snapshot
  EXPECT_THAT(listener.updates(), ElementsAre("+a,+b", "-a", "-b"));
}

}  // namespace
}  // namespace etcdgrpc::resolver
