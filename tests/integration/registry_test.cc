// The registry against a real etcd: what etcdctl sees after Register, the
// `etcdgrpc register` process killed (-9: the key goes with the TTL; SIGTERM:
// at once, lease revoked), self-healing after the key is deleted or
// overwritten and after etcd was down for longer than the TTL, duplicate ids,
// replace, Update, 1,000 registrations on one keep-alive stream, and the
// Kratos and naming codecs next to literal values of the Go formats.
#include <signal.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/list.h"
#include "etcdgrpc/registry/registrar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "nlohmann/json.hpp"
#include "registration_recorder.h"
#include "registry_process.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::registry {
namespace testing {

// For failure messages (found by ADL).
std::ostream& operator<<(std::ostream& os, const ProgramResult& r) {
  return os << "exit=" << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
}

}  // namespace testing
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::registry::testing::Etcdctl;
using ::etcdgrpc::registry::testing::ProgramResult;
using ::etcdgrpc::registry::testing::RunProgram;
using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::RegistrationRecorder;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kCli[] = ETCDGRPC_CLI;
// etcd's minimum TTL with its default election timeout (1 s): 3/2 of it,
// rounded up to whole seconds.
constexpr int64_t kTtlSeconds = 2;

// One key as `etcdctl get KEY -w json` shows it.
struct EtcdctlKey {
  bool found = false;
  std::string value;
  int64_t lease = 0;
  int64_t mod_revision = 0;
};

EtcdctlKey EtcdctlGet(const std::string& endpoints, const std::string& key) {
  EtcdctlKey result;
  ProgramResult run = Etcdctl(endpoints, {"get", key, "-w", "json"});
  if (run.exit_code != 0) {
    ADD_FAILURE() << "etcdctl get " << key << ": " << run;
    return result;
  }
  const nlohmann::json json = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    ADD_FAILURE() << "etcdctl get printed no JSON: " << run;
    return result;
  }
  if (!json.contains("kvs") || json["kvs"].empty()) return result;
  const nlohmann::json& kv = json["kvs"][0];
  result.found = true;
  EXPECT_TRUE(absl::Base64Unescape(kv.value("value", std::string()), &result.value));
  result.lease = kv.value("lease", int64_t{0});
  result.mod_revision = kv.value("mod_revision", int64_t{0});
  return result;
}

// The TTL `etcdctl lease timetolive` reports (-1: expired, revoked or never
// granted).
int64_t EtcdctlTimeToLive(const std::string& endpoints, int64_t lease) {
  ProgramResult run = Etcdctl(
      endpoints,
      {"lease", "timetolive", absl::StrFormat("%x", static_cast<uint64_t>(lease)), "-w", "json"});
  if (run.exit_code != 0) {
    ADD_FAILURE() << "etcdctl lease timetolive: " << run;
    return 0;
  }
  const nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
  if (json.is_discarded() || !json.contains("ttl")) {
    ADD_FAILURE() << "etcdctl lease timetolive printed no ttl: " << run;
    return 0;
  }
  return json["ttl"].get<int64_t>();
}

class RegistryTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    endpoints_ = etcd_->EndpointsFlag();
    prefix_ = TestPrefix() + "services";
  }

  RegistrarOptions Options() const {
    RegistrarOptions options;
    options.prefix = prefix_;
    options.ttl = absl::Seconds(kTtlSeconds);
    return options;
  }

  static ServiceInstance Greeter(std::string id = "g1") {
    return ServiceInstance{.service = "greeter",
                           .id = std::move(id),
                           .address = "127.0.0.1:50051",
                           .metadata = {{"weight", "10"}, {"zone", "eu-1"}}};
  }

  // `etcdgrpc [--endpoints=…] args…` as argv.
  std::vector<std::string> Cli(std::vector<std::string> args) const {
    std::vector<std::string> argv = {kCli, "--endpoints=" + endpoints_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  std::string endpoints_;
  std::string prefix_;
};

TEST_F(RegistryTest, EtcdctlSeesTheKeyWithItsLeaseAndTheJsonValue) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder listener;
  const absl::Time before = absl::Now() - absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter(), &listener));
  EXPECT_EQ(registration.key(), prefix_ + "/greeter/g1");
  EXPECT_EQ(registration.state(), RegistrationState::kRegistered);
  EXPECT_EQ(registration.ttl(), absl::Seconds(kTtlSeconds));
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kRegistered, absl::Seconds(2)));
  EXPECT_EQ(listener.First(RegistrationState::kRegistered)->lease_id, registration.lease_id());

  const EtcdctlKey seen = EtcdctlGet(endpoints_, registration.key());
  ASSERT_TRUE(seen.found);
  EXPECT_NE(seen.lease, 0);
  EXPECT_EQ(seen.lease, registration.lease_id());
  const nlohmann::json value = nlohmann::json::parse(seen.value, nullptr, false);
  ASSERT_TRUE(value.is_object()) << seen.value;
  EXPECT_EQ(value["service"], "greeter");
  EXPECT_EQ(value["id"], "g1");
  EXPECT_EQ(value["address"], "127.0.0.1:50051");
  EXPECT_EQ(value["metadata"], nlohmann::json({{"weight", "10"}, {"zone", "eu-1"}}));
  absl::Time registered_at;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, value["registered_at"].get<std::string>(),
                              &registered_at, &error))
      << error;
  EXPECT_GE(registered_at, before);
  EXPECT_LE(registered_at, absl::Now() + absl::Seconds(1));
  const int64_t ttl = EtcdctlTimeToLive(endpoints_, registration.lease_id());
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, kTtlSeconds);

  // Still there after several TTLs: the lease is kept.
  absl::SleepFor(absl::Seconds(kTtlSeconds) * 1.5);
  EXPECT_EQ(EtcdctlGet(endpoints_, registration.key()).lease, registration.lease_id());

  const int64_t lease = registration.lease_id();
  EXPECT_THAT(registration.Deregister(), IsOk());
  EXPECT_FALSE(EtcdctlGet(endpoints_, registration.key()).found);
  EXPECT_EQ(EtcdctlTimeToLive(endpoints_, lease), -1);
  EXPECT_EQ(registration.state(), RegistrationState::kDeregistered);
  EXPECT_EQ(listener.states(),
            (std::vector{RegistrationState::kRegistered, RegistrationState::kDeregistered}));
  EXPECT_THAT(registration.Deregister(), IsOk());  // idempotent
}

TEST_F(RegistryTest, TtlBelowEtcdsMinimumReportsTheGrantedTtl) {
  RegistrarOptions options = Options();
  options.ttl = absl::Seconds(1);
  Registrar registrar(*client_, options);
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter()));
  EXPECT_GE(registration.ttl(), absl::Seconds(kTtlSeconds));
  EXPECT_EQ(EtcdctlGet(endpoints_, registration.key()).lease, registration.lease_id());
}

TEST_F(RegistryTest, RegisterProcessKilledWithSigkillLeavesTheKeyUntilTheTtl) {
  const std::string key = prefix_ + "/greeter/killed";
  ChildProcess child(Cli({"register", "greeter", "killed", "127.0.0.1:50051", "--ttl",
                          absl::StrCat(kTtlSeconds), "--prefix", prefix_, "--meta", "zone=eu-1"}));
  ASSERT_GT(child.pid(), 0);
  std::optional<std::string> line = child.ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.has_value()) << "stderr: " << child.err();
  EXPECT_THAT(*line, StartsWith("registered " + key + " lease="));
  const EtcdctlKey registered = EtcdctlGet(endpoints_, key);
  ASSERT_TRUE(registered.found);
  EXPECT_NE(registered.lease, 0);
  EXPECT_THAT(*line,
              HasSubstr(absl::StrFormat("lease=%016x ttl=%ds",
                                        static_cast<uint64_t>(registered.lease), kTtlSeconds)));

  child.Signal(SIGKILL);
  const absl::Time killed = absl::Now();
  EXPECT_EQ(child.Wait(absl::Seconds(5)), 128 + SIGKILL);
  // Nobody deregistered: the key stays until the lease expires.
  EXPECT_TRUE(EtcdctlGet(endpoints_, key).found);
  EXPECT_TRUE(WaitUntil([&] { return !EtcdctlGet(endpoints_, key).found; },
                        absl::Seconds(kTtlSeconds + 3)));
  EXPECT_GE(absl::Now() - killed, absl::Milliseconds(500));
  EXPECT_EQ(EtcdctlTimeToLive(endpoints_, registered.lease), -1);
}

TEST_F(RegistryTest, RegisterProcessDeregistersOnSigtermWithinOneSecond) {
  const std::string key = prefix_ + "/greeter/terminated";
  // A long TTL: only deregistration can remove the key within the second.
  ChildProcess child(Cli({"register", "greeter", "terminated", "127.0.0.1:50051", "--ttl", "30",
                          "--prefix", prefix_}));
  ASSERT_GT(child.pid(), 0);
  std::optional<std::string> line = child.ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.has_value()) << "stderr: " << child.err();
  EXPECT_THAT(*line, StartsWith("registered " + key));
  const EtcdctlKey registered = EtcdctlGet(endpoints_, key);
  ASSERT_TRUE(registered.found);

  child.Signal(SIGTERM);
  const absl::Time signalled = absl::Now();
  std::optional<std::string> last = child.ReadLine(absl::Seconds(1));
  EXPECT_EQ(child.Wait(absl::Seconds(1)), 0) << "stderr: " << child.err();
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(1));
  ASSERT_TRUE(last.has_value()) << "stderr: " << child.err();
  EXPECT_EQ(*last, "deregistered " + key);
  EXPECT_FALSE(EtcdctlGet(endpoints_, key).found);
  EXPECT_EQ(EtcdctlTimeToLive(endpoints_, registered.lease), -1);
}

TEST_F(RegistryTest, KeyDeletedWithEtcdctlIsRecreatedWithinOneSecond) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter(), &listener));
  const int64_t first_lease = registration.lease_id();

  ProgramResult del = Etcdctl(endpoints_, {"del", registration.key()});
  ASSERT_EQ(del.exit_code, 0) << del;
  const absl::Time deleted = absl::Now();
  EXPECT_TRUE(WaitUntil(
      [&] {
        const EtcdctlKey key = EtcdctlGet(endpoints_, registration.key());
        return key.found && key.lease != 0 && key.lease == registration.lease_id();
      },
      absl::Seconds(1)));
  EXPECT_LT(absl::Now() - deleted, absl::Seconds(1));
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kReregistered, absl::Seconds(1)));
  std::optional<RegistrationEvent> lost = listener.First(RegistrationState::kLost);
  ASSERT_TRUE(lost.has_value());
  EXPECT_THAT(lost->reason, StatusIs(absl::StatusCode::kNotFound, HasSubstr("deleted")));
  EXPECT_EQ(listener.states(),
            (std::vector{RegistrationState::kRegistered, RegistrationState::kLost,
                         RegistrationState::kReregistered}));
  EXPECT_NE(registration.lease_id(), first_lease);
  EXPECT_EQ(registration.state(), RegistrationState::kReregistered);
  // The lease that held the deleted key is revoked once the new one holds it.
  EXPECT_TRUE(WaitUntil([&] { return EtcdctlTimeToLive(endpoints_, first_lease) == -1; },
                        absl::Seconds(2)));
}

TEST_F(RegistryTest, KeyOverwrittenBySomeoneElseIsRegisteredAgain) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter(), &listener));

  ProgramResult put = Etcdctl(endpoints_, {"put", registration.key(), "not ours"});
  ASSERT_EQ(put.exit_code, 0) << put;
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kReregistered, absl::Seconds(2)));
  EXPECT_THAT(listener.First(RegistrationState::kLost)->reason,
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("overwritten")));
  const EtcdctlKey seen = EtcdctlGet(endpoints_, registration.key());
  EXPECT_EQ(seen.lease, registration.lease_id());
  const nlohmann::json value = nlohmann::json::parse(seen.value, nullptr, false);
  ASSERT_TRUE(value.is_object()) << seen.value;
  EXPECT_EQ(value["id"], "g1");
}

TEST_F(RegistryTest, DuplicateIdIsAlreadyExistsAndReplaceTakesOver) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder first_listener;
  ASSERT_OK_AND_ASSIGN(Registration first, registrar.Register(Greeter(), &first_listener));

  ServiceInstance other = Greeter();
  other.address = "127.0.0.1:50052";
  EXPECT_THAT(registrar.Register(other),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(first.key())));
  // The refused registration changed nothing.
  EXPECT_EQ(EtcdctlGet(endpoints_, first.key()).lease, first.lease_id());
  // Another process (another client) is refused as well.
  {
    std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints());
    ASSERT_NE(client, nullptr);
    Registrar elsewhere(*client, Options());
    EXPECT_THAT(elsewhere.Register(other), StatusIs(absl::StatusCode::kAlreadyExists));
  }

  RegistrationRecorder second_listener;
  ASSERT_OK_AND_ASSIGN(Registration second,
                       registrar.Register(other, &second_listener, {.replace = true}));
  const EtcdctlKey taken = EtcdctlGet(endpoints_, first.key());
  EXPECT_EQ(taken.lease, second.lease_id());
  EXPECT_THAT(taken.value, HasSubstr("127.0.0.1:50052"));
  ASSERT_TRUE(first_listener.WaitFor(RegistrationState::kLost, absl::Seconds(2)));
  EXPECT_THAT(first_listener.First(RegistrationState::kLost)->reason,
              StatusIs(absl::StatusCode::kAlreadyExists));
  // The first one does not fight back while the other holds the key...
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(EtcdctlGet(endpoints_, first.key()).lease, second.lease_id());
  EXPECT_EQ(first.state(), RegistrationState::kLost);
  EXPECT_EQ(first.lease_id(), 0);

  // ...and takes the id back after the other is gone (its retries back off to
  // at most 2 s, plus jitter).
  EXPECT_THAT(second.Deregister(), IsOk());
  ASSERT_TRUE(first_listener.WaitFor(RegistrationState::kReregistered, absl::Seconds(4)));
  const EtcdctlKey back = EtcdctlGet(endpoints_, first.key());
  EXPECT_EQ(back.lease, first.lease_id());
  EXPECT_THAT(back.value, HasSubstr("127.0.0.1:50051"));
}

TEST_F(RegistryTest, UpdateRewritesTheValueAndKeepsTheLease) {
  Registrar registrar(*client_, Options());
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(Registration registration, registrar.Register(Greeter(), &listener));
  const int64_t lease = registration.lease_id();
  const int64_t revision = EtcdctlGet(endpoints_, registration.key()).mod_revision;

  EXPECT_THAT(registration.Update({{"weight", "50"}, {"version", "v2"}}), IsOk());
  const EtcdctlKey seen = EtcdctlGet(endpoints_, registration.key());
  EXPECT_EQ(seen.lease, lease);
  EXPECT_GT(seen.mod_revision, revision);
  const nlohmann::json value = nlohmann::json::parse(seen.value, nullptr, false);
  ASSERT_TRUE(value.is_object()) << seen.value;
  EXPECT_EQ(value["metadata"], nlohmann::json({{"version", "v2"}, {"weight", "50"}}));
  EXPECT_EQ(registration.instance().metadata.at("weight"), "50");

  // Its own write is not mistaken for someone else's.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(listener.states(), std::vector{RegistrationState::kRegistered});
  EXPECT_EQ(registration.lease_id(), lease);

  EXPECT_THAT(registration.Update({{"bad", "\xff"}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registration.Update({{"huge", std::string(2 << 20, 'x')}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request limit")));
  EXPECT_EQ(EtcdctlGet(endpoints_, registration.key()).value, seen.value);

  EXPECT_THAT(registration.Deregister(), IsOk());
  EXPECT_THAT(registration.Update({}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(RegistryTest, BadInstancesAreRefusedBeforeAnythingIsWritten) {
  Registrar registrar(*client_, Options());
  for (ServiceInstance bad : {
           ServiceInstance{.service = "", .id = "a", .address = "h:1"},
           ServiceInstance{.service = "greeter", .id = "", .address = "h:1"},
           ServiceInstance{.service = "gre/eter", .id = "a", .address = "h:1"},
           ServiceInstance{.service = "greeter", .id = "a/b", .address = "h:1"},
           ServiceInstance{.service = "greeter", .id = "a", .address = "no-port"},
           ServiceInstance{
               .service = "greeter", .id = "a", .address = "h:1", .metadata = {{"k", "\xc3"}}},
       }) {
    EXPECT_THAT(registrar.Register(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad.service << " " << bad.id << " " << bad.address;
  }
  ASSERT_OK_AND_ASSIGN(GetResult all, client_->Range(KeyRange::Prefix(TestPrefix())));
  EXPECT_TRUE(all.kvs.empty());
}

TEST(RegistryOutageTest, EtcdDownForTwiceTheTtlThenBackMeansRegisteredAgain) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  const std::string endpoints = (*etcd)->EndpointsFlag();
  std::unique_ptr<Client> client = ConnectTo((*etcd)->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  RegistrarOptions options;
  options.ttl = absl::Seconds(kTtlSeconds);
  Registrar registrar(*client, options);
  RegistrationRecorder listener;
  ASSERT_OK_AND_ASSIGN(
      Registration registration,
      registrar.Register(ServiceInstance{.service = "greeter", .id = "g1", .address = "h:1"},
                         &listener));
  const int64_t first_lease = registration.lease_id();

  ASSERT_THAT((*etcd)->Stop(0), IsOk());
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kLost, absl::Seconds(kTtlSeconds + 1)));
  absl::SleepFor(absl::Seconds(2 * kTtlSeconds));
  EXPECT_EQ(registration.state(), RegistrationState::kLost);
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  const absl::Time back = absl::Now();

  // One backoff period: at most RegistrarOptions::retry_backoff.max (2 s)
  // plus 20 % jitter, and a little for the client to reconnect.
  ASSERT_TRUE(listener.WaitFor(RegistrationState::kReregistered, absl::Seconds(3)))
      << "states: " << listener.states().size();
  const absl::Duration took = absl::Now() - back;
  EXPECT_LE(took, absl::Seconds(3));
  RecordProperty("reregistered_after_ms", static_cast<int>(absl::ToInt64Milliseconds(took)));
  const std::optional<RegistrationEvent> lost = listener.First(RegistrationState::kLost);
  ASSERT_TRUE(lost.has_value());
  EXPECT_FALSE(lost->reason.ok());
  EXPECT_EQ(listener.events().front().state, RegistrationState::kRegistered);
  EXPECT_EQ(listener.events().back().state, RegistrationState::kReregistered);
  EXPECT_NE(registration.lease_id(), first_lease);
  const EtcdctlKey seen = EtcdctlGet(endpoints, registration.key());
  EXPECT_EQ(seen.lease, registration.lease_id());
  // etcd revived the old lease when it restarted (with the key): it is
  // revoked now that the new one holds the key.
  EXPECT_TRUE(
      WaitUntil([&] { return EtcdctlTimeToLive(endpoints, first_lease) == -1; }, absl::Seconds(2)));
  // And it stays registered.
  absl::SleepFor(absl::Seconds(kTtlSeconds));
  EXPECT_EQ(EtcdctlGet(endpoints, registration.key()).lease, registration.lease_id());
  EXPECT_EQ(listener.events().back().state, RegistrationState::kReregistered);
}

TEST_F(RegistryTest, AThousandRegistrationsShareOneKeepAliveAndOneWatchStream) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  constexpr int kCount = 1000;
  RegistrarOptions options = Options();
  options.ttl = absl::Seconds(3);
  std::vector<Registration> registrations;
  {
    Registrar registrar(*client, options);
    for (int i = 0; i < kCount; ++i) {
      ASSERT_OK_AND_ASSIGN(
          Registration registration,
          registrar.Register({.service = "many", .id = absl::StrCat("i", i), .address = "h:1"}));
      registrations.push_back(std::move(registration));
    }
    // Past the first renewals of every lease.
    absl::SleepFor(absl::Milliseconds(1500));
    const ::etcdgrpc::KeepAliveStreamStats leases = client->stats().keepalive;
    EXPECT_EQ(leases.opens, 1u);
    EXPECT_EQ(leases.kept_leases, static_cast<size_t>(kCount));
    EXPECT_GE(leases.requests_sent, static_cast<uint64_t>(kCount));
    const ::etcdgrpc::WatchStreamStats watches = client->stats().watch;
    EXPECT_EQ(watches.opens, 1u);
    EXPECT_EQ(watches.watches, static_cast<size_t>(kCount));

    ASSERT_OK_AND_ASSIGN(ListResult listed,
                         ListInstances(*client, *NativeCodec(), prefix_, "many"));
    EXPECT_EQ(listed.instances.size(), static_cast<size_t>(kCount));
    std::set<int64_t> leases_seen;
    for (const ListedInstance& instance : listed.instances) leases_seen.insert(instance.lease);
    EXPECT_EQ(leases_seen.size(), static_cast<size_t>(kCount));
    EXPECT_EQ(leases_seen.count(0), 0u);
    // The Registrar deregisters all of them when it goes away.
  }
  EXPECT_EQ(registrations.front().state(), RegistrationState::kDeregistered);
  ASSERT_OK_AND_ASSIGN(GetResult left, client->Range(KeyRange::Prefix(prefix_ + "/many/")));
  EXPECT_TRUE(left.kvs.empty());
  EXPECT_EQ(client->stats().keepalive.kept_leases, 0u);
  registrations.clear();  // handles outliving the Registrar do nothing more
}

// Go Kratos' etcd registry (contrib/registry/etcd) puts
// json.Marshal(registry.ServiceInstance) at {namespace}/{Name}/{ID}, the
// namespace being "/microservices" by default.
TEST_F(RegistryTest, KratosCodecWritesWhatKratosWritesAndServicesListsIt) {
  RegistrarOptions options = Options();
  options.prefix.reset();  // Kratos' own namespace
  options.codec = KratosCodec();
  Registrar registrar(*client_, options);
  ASSERT_OK_AND_ASSIGN(Registration registration,
                       registrar.Register({.service = "helloworld",
                                           .id = "1",
                                           .address = "127.0.0.1:9000",
                                           .metadata = {{"version", "v1.0.0"}, {"region", "sh"}}}));
  EXPECT_EQ(registration.key(), "/microservices/helloworld/1");
  const EtcdctlKey seen = EtcdctlGet(endpoints_, "/microservices/helloworld/1");
  EXPECT_EQ(seen.lease, registration.lease_id());
  EXPECT_EQ(seen.value,
            R"({"id":"1","name":"helloworld","version":"v1.0.0","metadata":{"region":"sh"},)"
            R"("endpoints":["grpc://127.0.0.1:9000"]})");

  // What a Kratos app with an HTTP and a gRPC server writes.
  ProgramResult put =
      Etcdctl(endpoints_,
              {"put", "/microservices/helloworld/5a1d1c2e-8d3b-11ee-b9d1-0242ac120002",
               R"({"id":"5a1d1c2e-8d3b-11ee-b9d1-0242ac120002","name":"helloworld","version":"",)"
               R"("metadata":null,"endpoints":["http://172.17.0.2:8000?isSecure=false",)"
               R"("grpc://172.17.0.2:9000?isSecure=false"]})"});
  ASSERT_EQ(put.exit_code, 0) << put;
  ProgramResult services = RunProgram(Cli({"services", "--codec", "kratos", "helloworld"}));
  EXPECT_EQ(services.exit_code, 0) << services;
  EXPECT_EQ(services.out,
            "helloworld 1 127.0.0.1:9000 {\"region\":\"sh\",\"version\":\"v1.0.0\"}\n"
            "helloworld 5a1d1c2e-8d3b-11ee-b9d1-0242ac120002 172.17.0.2:9000 {}\n");
  EXPECT_EQ(services.err, "");
  (void)Etcdctl(endpoints_, {"del", "/microservices/helloworld/", "--prefix"});
}

// etcd's Go naming packages: GRPCResolver.Update (3.4) and the endpoints
// manager (3.5+) put json.Marshal(Update{Op, Addr, Metadata}) at
// {target}/{addr or key}.
TEST_F(RegistryTest, NamingCodecWritesWhatEtcdsGoNamingWritesAndServicesListsIt) {
  RegistrarOptions options = Options();
  options.prefix.reset();  // the target is the key's first segment
  options.codec = NamingCodec();
  Registrar registrar(*client_, options);
  ASSERT_OK_AND_ASSIGN(
      Registration registration,
      registrar.Register({.service = "my-service", .id = "ignored", .address = "1.2.3.4:80"}));
  EXPECT_EQ(registration.key(), "my-service/1.2.3.4:80");
  const EtcdctlKey seen = EtcdctlGet(endpoints_, "my-service/1.2.3.4:80");
  EXPECT_EQ(seen.lease, registration.lease_id());
  EXPECT_EQ(seen.value, R"({"Op":0,"Addr":"1.2.3.4:80","Metadata":null})");

  // Written by Go: GRPCResolver.Update(ctx, "my-service",
  // naming.Update{Op: naming.Add, Addr: "1.2.3.5:80", Metadata: "..."}).
  ProgramResult put = Etcdctl(endpoints_, {"put", "my-service/1.2.3.5:80",
                                           R"({"Op":0,"Addr":"1.2.3.5:80","Metadata":"..."})"});
  ASSERT_EQ(put.exit_code, 0) << put;
  ProgramResult services = RunProgram(Cli({"services", "--codec", "naming", "my-service"}));
  EXPECT_EQ(services.exit_code, 0) << services;
  EXPECT_EQ(services.out,
            "my-service 1.2.3.4:80 1.2.3.4:80 {}\n"
            "my-service 1.2.3.5:80 1.2.3.5:80 {\"metadata\":\"...\"}\n");
  (void)Etcdctl(endpoints_, {"del", "my-service/", "--prefix"});
}

TEST_F(RegistryTest, ServicesListsEveryServiceAndSkipsValuesThatAreNotJson) {
  Registrar registrar(*client_, Options());
  ASSERT_OK_AND_ASSIGN(Registration a, registrar.Register(Greeter("a")));
  ASSERT_OK_AND_ASSIGN(Registration b,
                       registrar.Register({.service = "echo", .id = "e1", .address = "h:2"}));
  ProgramResult put = Etcdctl(endpoints_, {"put", prefix_ + "/greeter/junk", "{not json"});
  ASSERT_EQ(put.exit_code, 0) << put;

  ProgramResult all = RunProgram(Cli({"services", "--prefix", prefix_}));
  EXPECT_EQ(all.exit_code, 0) << all;
  EXPECT_EQ(all.out,
            "echo e1 h:2 {}\n"
            "greeter a 127.0.0.1:50051 {\"weight\":\"10\",\"zone\":\"eu-1\"}\n");
  EXPECT_THAT(all.err, HasSubstr("warning: skipped"));
  EXPECT_THAT(all.err, HasSubstr(prefix_ + "/greeter/junk"));

  ProgramResult json = RunProgram(Cli({"-w", "json", "services", "--prefix", prefix_, "greeter"}));
  EXPECT_EQ(json.exit_code, 0) << json;
  const nlohmann::json listed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(listed.is_object()) << json;
  ASSERT_EQ(listed["instances"].size(), 1u);
  EXPECT_EQ(listed["instances"][0]["id"], "a");
  EXPECT_EQ(listed["instances"][0]["lease"], a.lease_id());

  ASSERT_OK_AND_ASSIGN(ListResult listed_here,
                       ListInstances(*client_, *NativeCodec(), prefix_, "greeter"));
  ASSERT_EQ(listed_here.instances.size(), 1u);
  EXPECT_EQ(listed_here.instances[0].instance.registered_at != absl::InfinitePast(), true);
  ASSERT_EQ(listed_here.skipped.size(), 1u);
  EXPECT_THAT(listed_here.skipped[0],
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
}

}  // namespace
}  // namespace etcdgrpc::registry
