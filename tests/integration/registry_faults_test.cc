// The registry when things go wrong around it, on real etcd: the Client,
// Registrar and Registrations destroyed in every order; listeners that
// throw, block, or deregister/destroy their own handle (or the Registrar);
// Deregister's verified result, alone and all at once with etcd stopped; an
// instance restarted after kill -9 taking its key over at once, per codec.
#include <signal.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registrar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "registration_recorder.h"
#include "registry_process.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::registry {
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::RegistrationRecorder;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kTtlSeconds = 2;

class RegistryFaultsTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix() + "services";
  }
  RegistrarOptions Options() const {
    RegistrarOptions options;
    options.prefix = prefix_;
    options.ttl = absl::Seconds(kTtlSeconds);
    return options;
  }
  static ServiceInstance Greeter(std::string id = "g1", std::string address = "127.0.0.1:50051") {
    return ServiceInstance{
        .service = "greeter", .id = std::move(id), .address = std::move(address)};
  }
  // The lease holding `key` (0: absent), read with the test's own client.
  int64_t HolderOf(const std::string& key) {
    absl::StatusOr<GetResult> get = client_->Get(key);
    EXPECT_THAT(get, IsOk());
    return get.ok() && !get->kvs.empty() ? get->kvs.front().lease : 0;
  }
  bool Present(const std::string& key) {
    absl::StatusOr<GetResult> get = client_->Get(key);
    EXPECT_THAT(get, IsOk());
    return get.ok() && !get->kvs.empty();
  }

  std::string prefix_;
};

// --- Destruction orders -----------------------------------------------------

// The three objects, destroyed in the order of the parameter: C(lient),
// R(egistrar), H(andle, the Registration).
class DestructionOrderTest : public RegistryFaultsTest,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(DestructionOrderTest, NothingCrashesAndTheOutcomeIsReported) {
  const std::string order = GetParam();
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  auto registrar = std::make_unique<Registrar>(*client, Options());
  RegistrationRecorder listener;
  absl::StatusOr<Registration> registered = registrar->Register(Greeter(), &listener);
  ASSERT_THAT(registered, IsOk());
  auto handle = std::make_unique<Registration>(*std::move(registered));
  const std::string key = handle->key();
  const int64_t lease = handle->lease_id();
  const bool client_first = order.front() == 'C';

  bool deregistered = false;
  for (char what : order) {
    if (what == 'C') {
      client.reset();
      if (!deregistered) {
        // Nothing can be kept any more: reported once, not retried.
        ASSERT_TRUE(listener.WaitFor(RegistrationState::kLost, absl::Seconds(5)));
        EXPECT_THAT(listener.Last()->reason,
                    StatusIs(absl::StatusCode::kCancelled, HasSubstr("the client was closed")));
        EXPECT_EQ(handle->state(), RegistrationState::kLost);
        EXPECT_THAT(handle->Update({{"k", "v"}}), StatusIs(absl::StatusCode::kFailedPrecondition));
      }
    } else if (what == 'R') {
      const absl::Time start = absl::Now();
      registrar.reset();
      EXPECT_LT(absl::Now() - start, absl::Seconds(6));
      deregistered = true;
    } else {
      handle.reset();
      deregistered = true;
    }
  }
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kDeregistered, absl::Seconds(1)));
  const std::vector<RegistrationState> states = listener.states();
  EXPECT_EQ(std::count(states.begin(), states.end(), RegistrationState::kDeregistered), 1);
  EXPECT_EQ(states.back(), RegistrationState::kDeregistered);
  if (client_first) {
    EXPECT_THAT(states, ElementsAre(RegistrationState::kRegistered, RegistrationState::kLost,
                                    RegistrationState::kDeregistered));
    // Not deregistered: the key goes with its lease's TTL.
    EXPECT_THAT(listener.Last()->reason,
                StatusIs(absl::StatusCode::kCancelled, HasSubstr("the client was closed")));
    EXPECT_THAT(listener.Last()->reason.message(), HasSubstr("expires after its TTL"));
    EXPECT_EQ(HolderOf(key), lease);
    EXPECT_TRUE(WaitUntil([&] { return !Present(key); }, absl::Seconds(kTtlSeconds + 3)));
  } else {
    EXPECT_THAT(listener.Last()->reason, IsOk());
    EXPECT_FALSE(Present(key));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOrders, DestructionOrderTest,
                         ::testing::Values("CRH", "CHR", "RCH", "RHC", "HCR", "HRC"));

TEST_F(RegistryFaultsTest, AfterTheClientIsGoneNothingIsRetried) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  Registrar registrar(*client, Options());
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter(), &listener));
  client.reset();
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kLost, absl::Seconds(5)));
  // Several retry periods (100 ms doubling): no attempt, no new event.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_THAT(listener.states(),
              ElementsAre(RegistrationState::kRegistered, RegistrationState::kLost));
  EXPECT_THAT(registrar.Register(Greeter("g2")), StatusIs(absl::StatusCode::kCancelled));
  const absl::Time start = absl::Now();
  EXPECT_THAT(registration.Deregister(),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("the client was closed")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(registration.state(), RegistrationState::kDeregistered);
}

// --- Listeners --------------------------------------------------------------

TEST_F(RegistryFaultsTest, AListenerThatThrowsEndsOnlyItsOwnRegistration) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder thrower;
  thrower.react = [](const RegistrationEvent& event) {
    if (event.state == RegistrationState::kRegistered) throw std::runtime_error("listener boom");
  };
  RegistrationRecorder other;
  ASSERT_OK_AND_ASSIGN(Registration a, registrar.Register(Greeter("a"), &thrower));
  ASSERT_OK_AND_ASSIGN(Registration b, registrar.Register(Greeter("b"), &other));
  // The throwing one is deregistered; its last call says why.
  ASSERT_TRUE(thrower.WaitFor(RegistrationState::kDeregistered, absl::Seconds(10)));
  EXPECT_THAT(thrower.states(),
              ElementsAre(RegistrationState::kRegistered, RegistrationState::kDeregistered));
  EXPECT_THAT(thrower.Last()->reason,
              StatusIs(absl::StatusCode::kInternal, HasSubstr("listener boom")));
  EXPECT_THAT(thrower.Last()->reason.message(), HasSubstr("was deregistered"));
  EXPECT_EQ(a.state(), RegistrationState::kDeregistered);
  EXPECT_FALSE(Present(a.key()));
  EXPECT_THAT(a.Deregister(), IsOk());
  // The other goes on: it heals and hears it.
  ASSERT_TRUE(other.WaitFor(RegistrationState::kRegistered, absl::Seconds(2)));
  ASSERT_THAT(client_->Delete(b.key()), IsOk());
  ASSERT_TRUE(other.WaitFor(RegistrationState::kReregistered, absl::Seconds(5)));
  EXPECT_THAT(other.states(), ElementsAre(RegistrationState::kRegistered, RegistrationState::kLost,
                                          RegistrationState::kReregistered));
  EXPECT_EQ(HolderOf(b.key()), b.lease_id());
}

TEST_F(RegistryFaultsTest, AListenerThatBlocksDelaysOnlyItsOwnCalls) {
  Registrar registrar(*client_, Options());
  absl::Notification release;
  RegistrationRecorder blocked;
  blocked.react = [&](const RegistrationEvent& event) {
    if (event.state == RegistrationState::kRegistered) {
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
  };
  ASSERT_OK_AND_ASSIGN(Registration a, registrar.Register(Greeter("a"), &blocked));
  ASSERT_TRUE(blocked.WaitFor(RegistrationState::kRegistered, absl::Seconds(2)));
  // Another registration's calls are made meanwhile...
  RegistrationRecorder other;
  ASSERT_OK_AND_ASSIGN(Registration b, registrar.Register(Greeter("b"), &other));
  EXPECT_TRUE(other.WaitFor(RegistrationState::kRegistered, absl::Seconds(5)));
  // ...and the blocked one still heals in etcd.
  const int64_t first_lease = a.lease_id();
  ASSERT_THAT(client_->Delete(a.key()), IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] {
        const int64_t holder = HolderOf(a.key());
        return holder != 0 && holder != first_lease;
      },
      absl::Seconds(5)));
  EXPECT_EQ(a.state(), RegistrationState::kReregistered);
  EXPECT_EQ(blocked.states().size(), 1u);
  // Released, it hears what it missed, in order.
  release.Notify();
  ASSERT_TRUE(blocked.WaitFor(RegistrationState::kReregistered, absl::Seconds(5)));
  EXPECT_THAT(blocked.states(),
              ElementsAre(RegistrationState::kRegistered, RegistrationState::kLost,
                          RegistrationState::kReregistered));
}

TEST_F(RegistryFaultsTest, AListenerMayDeregisterOrDestroyItsOwnRegistration) {
  Registrar registrar(*client_, Options());
  // Deregister() from inside its own kLost call.
  RegistrationRecorder deregistering;
  std::unique_ptr<Registration> a;
  absl::Status result_inside = absl::UnknownError("not called");
  deregistering.react = [&](const RegistrationEvent& event) {
    if (event.state == RegistrationState::kLost) result_inside = a->Deregister();
  };
  ASSERT_OK_AND_ASSIGN(Registration registered_a, registrar.Register(Greeter("a"), &deregistering));
  a = std::make_unique<Registration>(std::move(registered_a));
  // Destroying its own handle from inside its kLost call.
  RegistrationRecorder destroying;
  std::unique_ptr<Registration> b;
  destroying.react = [&](const RegistrationEvent& event) {
    if (event.state == RegistrationState::kLost) b.reset();
  };
  ASSERT_OK_AND_ASSIGN(Registration registered_b, registrar.Register(Greeter("b"), &destroying));
  const std::string key_b = registered_b.key();
  b = std::make_unique<Registration>(std::move(registered_b));

  ASSERT_THAT(client_->Delete(a->key()), IsOk());
  ASSERT_THAT(client_->Delete(key_b), IsOk());
  ASSERT_TRUE(deregistering.WaitFor(RegistrationState::kDeregistered, absl::Seconds(10)));
  ASSERT_TRUE(destroying.WaitFor(RegistrationState::kDeregistered, absl::Seconds(10)));
  EXPECT_THAT(result_inside, IsOk());
  // (A re-registration may have completed before the listener's call: its
  // kReregistered then comes before kDeregistered.)
  for (RegistrationRecorder* listener : {&deregistering, &destroying}) {
    const std::vector<RegistrationState> states = listener->states();
    ASSERT_GE(states.size(), 3u);
    EXPECT_EQ(states[0], RegistrationState::kRegistered);
    EXPECT_EQ(states[1], RegistrationState::kLost);
    EXPECT_EQ(states.back(), RegistrationState::kDeregistered);
    EXPECT_EQ(std::count(states.begin(), states.end(), RegistrationState::kDeregistered), 1);
  }
  EXPECT_EQ(a->state(), RegistrationState::kDeregistered);
  // Neither came back.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(Present(a->key()));
  EXPECT_FALSE(Present(key_b));
}

TEST_F(RegistryFaultsTest, TheRegistrarMayBeDestroyedFromInsideAListener) {
  auto registrar = std::make_unique<Registrar>(*client_, Options());
  absl::Notification destroyed;
  RegistrationRecorder first;
  first.react = [&](const RegistrationEvent& event) {
    if (event.state == RegistrationState::kLost) {
      registrar.reset();
      destroyed.Notify();
    }
  };
  RegistrationRecorder second;
  ASSERT_OK_AND_ASSIGN(Registration a, registrar->Register(Greeter("a"), &first));
  ASSERT_OK_AND_ASSIGN(Registration b, registrar->Register(Greeter("b"), &second));
  ASSERT_THAT(client_->Delete(a.key()), IsOk());
  ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(first.WaitFor(RegistrationState::kDeregistered, absl::Seconds(5)));
  ASSERT_TRUE(second.WaitFor(RegistrationState::kDeregistered, absl::Seconds(5)));
  EXPECT_EQ(first.states().back(), RegistrationState::kDeregistered);
  EXPECT_FALSE(Present(a.key()));
  EXPECT_FALSE(Present(b.key()));
}

// --- Deregistration ---------------------------------------------------------

TEST_F(RegistryFaultsTest, DeregisterLeavesAKeyTakenOverByAnotherInstanceAlone) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder first_listener;
  ASSERT_OK_AND_ASSIGN(Registration first, registrar.Register(Greeter(), &first_listener));
  ASSERT_OK_AND_ASSIGN(Registration second, registrar.Register(Greeter("g1", "127.0.0.1:50052"),
                                                               nullptr, {.replace = true}));
  ASSERT_TRUE(first_listener.WaitFor(RegistrationState::kLost, absl::Seconds(5)));
  // Nothing of ours is left: OK, and the other instance's key stays.
  EXPECT_THAT(first.Deregister(), IsOk());
  EXPECT_EQ(HolderOf(second.key()), second.lease_id());
  EXPECT_THAT(second.Deregister(), IsOk());
  EXPECT_FALSE(Present(second.key()));
}

TEST(RegistryOutageTest, DeregisterWithEtcdStoppedReportsThatTheKeyMayRemain) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  const absl::Duration timeout = absl::Seconds(1);
  std::unique_ptr<Client> client =
      ConnectTo((*etcd)->ClientEndpoints(), {.request_timeout = timeout});
  ASSERT_NE(client, nullptr);
  Registrar registrar(*client, {.ttl = absl::Seconds(30)});
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(
      Registration registration,
      registrar.Register({.service = "s", .id = "i", .address = "h:1"}, &listener));
  const int64_t lease = registration.lease_id();
  ASSERT_THAT((*etcd)->Stop(0), IsOk());
  const absl::Time start = absl::Now();
  const absl::Status status = registration.Deregister();
  EXPECT_LT(absl::Now() - start, timeout + absl::Seconds(1));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("could not make sure the key is gone"));
  EXPECT_THAT(status.message(), HasSubstr("expires after its TTL"));
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kDeregistered, absl::Seconds(1)));
  EXPECT_EQ(listener.Last()->reason, status);
  // Indeed it is still there when etcd is back (until its lease expires).
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  ASSERT_OK_AND_ASSIGN(GetResult left, client->Get(registration.key()));
  ASSERT_EQ(left.kvs.size(), 1u);
  EXPECT_EQ(left.kvs[0].lease, lease);
}

TEST(RegistryOutageTest, DestroyingTheRegistrarWithEtcdStoppedTakesAboutOneRequestTimeout) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  const absl::Duration timeout = absl::Seconds(2);
  std::unique_ptr<Client> client =
      ConnectTo((*etcd)->ClientEndpoints(), {.request_timeout = timeout});
  ASSERT_NE(client, nullptr);
  auto registrar =
      std::make_unique<Registrar>(*client, RegistrarOptions{.ttl = absl::Seconds(300)});
  constexpr int kCount = 50;
  std::vector<RegistrationRecorder> listeners(kCount);
  std::vector<Registration> registrations;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(Registration registration,
                         registrar->Register({.service = "many",
                                              .id = absl::StrCat("i", i),
                                              .address = absl::StrCat("127.0.0.1:", 1000 + i)},
                                             &listeners[i]));
    registrations.push_back(std::move(registration));
  }
  ASSERT_THAT((*etcd)->Stop(0), IsOk());
  const absl::Time start = absl::Now();
  registrar.reset();
  const absl::Duration took = absl::Now() - start;
  // All at once under one deadline, not one request time-out each.
  EXPECT_LT(took, timeout + absl::Seconds(2));
  RecordProperty("registrar_destroyed_after_ms", static_cast<int>(absl::ToInt64Milliseconds(took)));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(registrations[i].state(), RegistrationState::kDeregistered);
    ASSERT_TRUE(listeners[i].Last().has_value());
    EXPECT_EQ(listeners[i].Last()->state, RegistrationState::kDeregistered);
    EXPECT_FALSE(listeners[i].Last()->reason.ok()) << i;
  }
}

// --- Restart takeover -------------------------------------------------------

TEST_F(RegistryFaultsTest, AnInstanceRestartedAfterKill9TakesItsKeyOverAtOnce) {
  const std::string key = prefix_ + "/greeter/restarted";
  const std::vector<std::string> argv = {ETCDGRPC_CLI, "--endpoints=" + etcd_->EndpointsFlag(),
                                         "register",   "greeter",
                                         "restarted",  "127.0.0.1:50061",
                                         "--ttl",      "60",
                                         "--prefix",   prefix_};
  int64_t first_lease = 0;
  {
    ChildProcess first(argv);
    ASSERT_GT(first.pid(), 0);
    std::optional<std::string> line = first.ReadLine(absl::Seconds(10));
    ASSERT_TRUE(line.has_value()) << first.err();
    EXPECT_THAT(*line, StartsWith("registered " + key));
    first_lease = HolderOf(key);
    ASSERT_NE(first_lease, 0);
    first.Signal(SIGKILL);
    EXPECT_EQ(first.Wait(absl::Seconds(5)), 128 + SIGKILL);
  }
  // Its lease lives on for a minute; the restarted instance does not wait.
  ChildProcess second(argv);
  ASSERT_GT(second.pid(), 0);
  std::optional<std::string> line = second.ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.has_value()) << second.err();
  EXPECT_THAT(*line, StartsWith("registered " + key));
  const int64_t second_lease = HolderOf(key);
  EXPECT_NE(second_lease, 0);
  EXPECT_NE(second_lease, first_lease);
  // Another address under the same id is still refused.
  Registrar registrar(*client_, Options());
  EXPECT_THAT(registrar.Register(Greeter("restarted", "127.0.0.1:50062")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(key)));
  EXPECT_EQ(HolderOf(key), second_lease);
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(absl::Seconds(5)), 0) << second.err();
  EXPECT_FALSE(Present(key));
  // The stale lease is left to expire; it holds nothing any more.
  ASSERT_OK_AND_ASSIGN(LeaseTimeToLiveResult stale, client_->TimeToLive(first_lease, true));
  EXPECT_GT(stale.ttl, 0);
  EXPECT_TRUE(stale.keys.empty());
  (void)client_->Revoke(first_lease);
}

// A key left by a stale lease, as each codec writes it: taken over when the
// value decodes to the same address, refused otherwise.
TEST_F(RegistryFaultsTest, SameAddressMeansTheDecodedAddressForEveryCodec) {
  for (const auto& codec : {NativeCodec(), KratosCodec(), NamingCodec()}) {
    SCOPED_TRACE(std::string(codec->name()));
    RegistrarOptions options = Options();
    options.prefix = prefix_ + "/" + std::string(codec->name());
    options.codec = codec;
    Registrar registrar(*client_, options);
    const ServiceInstance instance = {.service = "svc",
                                      .id = "one",
                                      .address = "127.0.0.1:7001",
                                      .metadata = {{"version", "v1"}}};
    const std::string key = registrar.KeyOf(instance);
    ASSERT_OK_AND_ASSIGN(LeaseGrantResult stale, client_->Grant(60));
    ASSERT_OK_AND_ASSIGN(std::string value, codec->Encode(instance));
    ASSERT_THAT(client_->Put(key, value, {.lease = stale.id}), IsOk());

    ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(instance));
    EXPECT_EQ(HolderOf(key), registration.lease_id());
    EXPECT_NE(registration.lease_id(), stale.id);
    EXPECT_THAT(registration.Deregister(), IsOk());

    if (codec->name() != "naming") {  // there the address is the key
      ServiceInstance elsewhere = instance;
      elsewhere.address = "127.0.0.1:7002";
      ASSERT_OK_AND_ASSIGN(std::string other, codec->Encode(elsewhere));
      ASSERT_THAT(client_->Put(key, other, {.lease = stale.id}), IsOk());
      EXPECT_THAT(registrar.Register(instance), StatusIs(absl::StatusCode::kAlreadyExists));
      EXPECT_EQ(HolderOf(key), stale.id);
    }
    // A value that does not decode is not the same instance.
    ASSERT_THAT(client_->Put(key, "{not json", {.lease = stale.id}), IsOk());
    EXPECT_THAT(registrar.Register(instance), StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_EQ(HolderOf(key), stale.id);
    ASSERT_THAT(client_->Revoke(stale.id), IsOk());
  }
}

}  // namespace
}  // namespace etcdgrpc::registry
