// The resolver against real etcd: snapshots follow etcdctl's writes in order
// with their revisions, a broken watch resumes without missing a change, a
// compaction during the break forces a correct re-list, the three codecs read
// the registry's and Go's records, and bad records are skipped and reported.
#include "etcdgrpc/resolver/resolver.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registrar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "nlohmann/json.hpp"
#include "registry_process.h"
#include "resolver_waits.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::resolver {
namespace {

using ::etcdgrpc::registry::ServiceInstance;
using ::etcdgrpc::registry::testing::Etcdctl;
using ::etcdgrpc::registry::testing::ProgramResult;
using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::SharedEtcd;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestClientOptions;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitForRevision;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// What one OnUpdate call said, as "+id", "-id", "~id" in that order.
struct Update {
  int64_t revision = 0;
  std::vector<std::string> changes;
};

class RecordingListener final : public ServiceListener {
 public:
  void OnUpdate(const EndpointSet& endpoints, const EndpointChanges& changes) override {
    Update update{.revision = endpoints.revision, .changes = {}};
    for (const auto& e : changes.added) update.changes.push_back("+" + e->instance.id);
    for (const auto& e : changes.removed) update.changes.push_back("-" + e->instance.id);
    for (const auto& e : changes.updated) update.changes.push_back("~" + e->instance.id);
    absl::MutexLock lock(&mutex_);
    if (!update.changes.empty()) updates_.push_back(std::move(update));
  }
  void OnProblem(const absl::Status& problem) override {
    absl::MutexLock lock(&mutex_);
    problems_.push_back(problem);
  }
  std::vector<Update> updates() const {
    absl::MutexLock lock(&mutex_);
    return updates_;
  }
  std::vector<absl::Status> problems() const {
    absl::MutexLock lock(&mutex_);
    return problems_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<Update> updates_;
  std::vector<absl::Status> problems_;
};

// The resolver tests' clients: 3 s calls; with RESOLVER_TEST_WIRE_LOG=<file>, their messages
// are logged there.
TestClientOptions ResolverClient() {
  TestClientOptions options = {.request_timeout = absl::Seconds(3)};
  if (const char* log = std::getenv("RESOLVER_TEST_WIRE_LOG")) {
    options.wire_log = OpenWireLogFile(log).value_or(nullptr);
  }
  return options;
}

std::string Value(const registry::Codec& codec, const ServiceInstance& instance) {
  absl::StatusOr<std::string> value = codec.Encode(instance);
  EXPECT_THAT(value, IsOk());
  return value.value_or("");
}

// `etcdctl put` (or any write) and the revision it produced.
int64_t EtcdctlWrite(const std::string& endpoints, std::vector<std::string> args) {
  args.push_back("-w");
  args.push_back("json");
  ProgramResult result = Etcdctl(endpoints, std::move(args));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_discarded() || !json.contains("header")) return 0;
  return json["header"]["revision"].get<int64_t>();
}

// Waits (bounded) until the listener heard an update at `revision` or later:
// a snapshot is published before its listener calls are made.
bool WaitForListener(const RecordingListener& listener, int64_t revision,
                     absl::Duration timeout = absl::Seconds(10)) {
  return WaitUntil(
      [&] {
        std::vector<Update> updates = listener.updates();
        return !updates.empty() && updates.back().revision >= revision;
      },
      timeout, absl::Milliseconds(5));
}

std::vector<std::string> Ids(const EndpointSet& set) {
  std::vector<std::string> ids;
  for (const auto& endpoint : set.endpoints) ids.push_back(endpoint->instance.id);
  return ids;
}

ServiceInstance Instance(const std::string& service, const std::string& id, int port,
                         std::map<std::string, std::string> metadata = {}) {
  return ServiceInstance{.service = service,
                         .id = id,
                         .address = "127.0.0.1:" + std::to_string(port),
                         .metadata = std::move(metadata)};
}

// Tests on the shared etcd, each with a client of its own.
class ResolverTest : public SharedEtcdTest {
 protected:
  ResolverTest() : SharedEtcdTest(ResolverClient()) {}
};

TEST_F(ResolverTest, EtcdctlWritesShowInOrderWithTheirRevisions) {
  const std::string prefix = TestPrefix() + "/services";
  auto codec = registry::NativeCodec();
  Resolver resolver(*client_, {.prefix = prefix});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  EXPECT_THAT(view->snapshot()->endpoints, SizeIs(0));
  RecordingListener listener;
  ServiceView::Subscription subscription = view->Subscribe(&listener);

  const std::string flag = etcd_->EndpointsFlag();
  const std::string key_a = codec->Key(prefix, Instance("svc", "a", 1));
  const std::string key_b = codec->Key(prefix, Instance("svc", "b", 2));
  const int64_t r1 = EtcdctlWrite(flag, {"put", key_a, Value(*codec, Instance("svc", "a", 1))});
  const int64_t r2 = EtcdctlWrite(flag, {"put", key_b, Value(*codec, Instance("svc", "b", 2))});
  // Another service's key sharing the name as a prefix is not ours.
  EtcdctlWrite(flag, {"put", codec->Key(prefix, Instance("svc2", "x", 3)),
                      Value(*codec, Instance("svc2", "x", 3))});
  const int64_t r3 = EtcdctlWrite(
      flag, {"put", key_a, Value(*codec, Instance("svc", "a", 1, {{"version", "v2"}}))});
  const int64_t r4 = EtcdctlWrite(flag, {"del", key_b});
  ASSERT_GT(r4, r3);
  ASSERT_TRUE(WaitForRevision(*view, r4));
  ASSERT_TRUE(WaitForListener(listener, r4));

  std::vector<Update> updates = listener.updates();
  ASSERT_THAT(updates, SizeIs(4));
  EXPECT_EQ(updates[0].revision, r1);
  EXPECT_THAT(updates[0].changes, ElementsAre("+a"));
  EXPECT_EQ(updates[1].revision, r2);
  EXPECT_THAT(updates[1].changes, ElementsAre("+b"));
  EXPECT_EQ(updates[2].revision, r3);
  EXPECT_THAT(updates[2].changes, ElementsAre("~a"));
  EXPECT_EQ(updates[3].revision, r4);
  EXPECT_THAT(updates[3].changes, ElementsAre("-b"));
  std::shared_ptr<const EndpointSet> snapshot = view->snapshot();
  EXPECT_THAT(Ids(*snapshot), ElementsAre("a"));
  EXPECT_EQ(snapshot->endpoints[0]->mod_revision, r3);
  EXPECT_EQ(snapshot->endpoints[0]->instance.metadata.at("version"), "v2");

  // A second view of the same service is the same object; a new one starts
  // from a listing at the current revision.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> again, resolver.Watch("svc"));
  EXPECT_TRUE(again->SameViewAs(*view));
}

TEST_F(ResolverTest, UnknownServiceWaitsThenFailsNamingIt) {
  Resolver resolver(*client_, {.prefix = TestPrefix() + "/services"});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("nobody"));
  EXPECT_THAT(view->WaitForEndpoints(absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Balancer> balancer,
                       resolver.Balance("nobody", {.wait_for_endpoints = absl::Milliseconds(300)}));
  const absl::Time start = absl::Now();
  EXPECT_THAT(balancer->Pick(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("nobody")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_THAT(resolver.Watch(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(resolver.Watch("a/b"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ResolverTest, BadRecordsAreSkippedAndReportedOnce) {
  const std::string prefix = TestPrefix() + "/services";
  auto codec = registry::NativeCodec();
  const std::string flag = etcd_->EndpointsFlag();
  // One bad record before the listing, one after.
  EtcdctlWrite(flag, {"put", prefix + "/svc/not-json", "{this is not json"});
  Resolver resolver(*client_, {.prefix = prefix});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  RecordingListener listener;
  ServiceView::Subscription subscription = view->Subscribe(&listener);
  ServiceInstance bad_address = Instance("svc", "bad-address", 1);
  nlohmann::json value = nlohmann::json::parse(Value(*codec, bad_address));
  value["address"] = "no port here";
  EtcdctlWrite(flag, {"put", prefix + "/svc/bad-address", value.dump()});
  const int64_t last = EtcdctlWrite(flag, {"put", codec->Key(prefix, Instance("svc", "good", 2)),
                                           Value(*codec, Instance("svc", "good", 2))});
  ASSERT_TRUE(WaitForRevision(*view, last));
  EXPECT_THAT(Ids(*view->snapshot()), ElementsAre("good"));
  // Rewriting an unrelated key does not report the bad ones again.
  const int64_t later = EtcdctlWrite(flag, {"put", codec->Key(prefix, Instance("svc", "good", 2)),
                                            Value(*codec, Instance("svc", "good", 3))});
  ASSERT_TRUE(WaitForRevision(*view, later));
  ASSERT_TRUE(WaitForListener(listener, later));
  std::vector<absl::Status> problems = listener.problems();
  ASSERT_THAT(problems, SizeIs(2));
  EXPECT_THAT(problems[0].message(), HasSubstr("not-json"));
  EXPECT_THAT(problems[1].message(), HasSubstr("bad-address"));
}

TEST_F(ResolverTest, CodecsReadTheRegistrysAndGosRecords) {
  const std::string root = TestPrefix();
  const std::string flag = etcd_->EndpointsFlag();

  // As go-kratos' etcd registry writes a registry.ServiceInstance.
  EtcdctlWrite(flag, {"put", root + "/microservices/helloworld/7f3d",
                      R"({"id":"7f3d","name":"helloworld","version":"v1.2.0",)"
                      R"("metadata":{"zone":"z1"},)"
                      R"("endpoints":["http://127.0.0.1:8000","grpc://127.0.0.1:9000"]})"});
  // As etcd's Go naming GRPCResolver (3.4) writes an Update.
  EtcdctlWrite(flag, {"put", root + "/naming/helloworld/127.0.0.1:50051",
                      R"({"Op":0,"Addr":"127.0.0.1:50051","Metadata":null})"});
  // And what our own Registrar writes with each codec.
  for (const auto& codec : {registry::KratosCodec(), registry::NamingCodec()}) {
    registry::Registrar registrar(
        *client_, {.prefix = root + (codec->name() == "kratos" ? "/microservices" : "/naming"),
                   .codec = codec});
    ASSERT_OK_AND_ASSIGN(
        registry::Registration registration,
        registrar.Register(Instance("helloworld", "ours", 7000, {{"version", "v9"}})));
    Resolver resolver(*client_, {.prefix = registrar.prefix(), .codec = codec});
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("helloworld"));
    std::shared_ptr<const EndpointSet> set = view->snapshot();
    ASSERT_THAT(set->endpoints, SizeIs(2)) << codec->name();
    std::map<std::string, const Endpoint*> by_address;
    for (const auto& endpoint : set->endpoints) by_address[endpoint->address()] = endpoint.get();
    ASSERT_EQ(by_address.count("127.0.0.1:7000"), 1u) << codec->name();
    if (codec->name() == "kratos") {
      ASSERT_EQ(by_address.count("127.0.0.1:9000"), 1u);
      const Endpoint& go = *by_address["127.0.0.1:9000"];
      EXPECT_EQ(go.instance.id, "7f3d");
      EXPECT_EQ(go.instance.metadata.at("version"), "v1.2.0");
      EXPECT_EQ(go.zone(), "z1");
      EXPECT_EQ(by_address["127.0.0.1:7000"]->instance.metadata.at("version"), "v9");
    } else {
      ASSERT_EQ(by_address.count("127.0.0.1:50051"), 1u);
      EXPECT_EQ(by_address["127.0.0.1:50051"]->instance.service, "helloworld");
    }
  }
}

TEST_F(ResolverTest, ManyServicesShareOneWatchStream) {
  Resolver resolver(*client_, {.prefix = TestPrefix() + "/services"});
  std::vector<std::shared_ptr<ServiceView>> views;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view,
                         resolver.Watch("svc" + std::to_string(i)));
    views.push_back(view);
  }
  ::etcdgrpc::WatchStreamStats stats = client_->stats().watch;
  EXPECT_EQ(stats.opens, 1u);
  EXPECT_EQ(stats.watches, 50u);
}

TEST(ResolveCliTest, PrintsTheSetThenEveryChangeUntilSigterm) {
  LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  const std::string prefix = TestPrefix() + "/services";
  const std::string flag = etcd->EndpointsFlag();
  auto codec = registry::NativeCodec();
  const ServiceInstance a = Instance("svc", "a", 1, {{"zone", "z1"}});
  const int64_t r1 = EtcdctlWrite(flag, {"put", codec->Key(prefix, a), Value(*codec, a)});
  EtcdctlWrite(flag, {"put", prefix + "/svc/broken", "not json"});
  const std::vector<std::string> base = {ETCDGRPC_CLI, "--endpoints=" + flag, "resolve", "svc",
                                         "--prefix=" + prefix};

  ProgramResult once = ::etcdgrpc::registry::testing::RunProgram(base);
  EXPECT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out, "svc at revision " + std::to_string(r1 + 1) +
                          ": 1 endpoint\n  a 127.0.0.1:1 {\"zone\":\"z1\"}\n");
  EXPECT_THAT(once.err, HasSubstr("warning: skipped"));
  EXPECT_THAT(once.err, HasSubstr("broken"));

  std::vector<std::string> watch_args = base;
  watch_args.push_back("--watch");
  ::etcdgrpc::registry::testing::ChildProcess watcher(watch_args);
  EXPECT_THAT(watcher.ReadLine(absl::Seconds(10)), ::testing::Optional(HasSubstr("1 endpoint")));
  EXPECT_THAT(watcher.ReadLine(absl::Seconds(5)), ::testing::Optional(HasSubstr("  a ")));
  const ServiceInstance b = Instance("svc", "b", 2);
  const int64_t r2 = EtcdctlWrite(flag, {"put", codec->Key(prefix, b), Value(*codec, b)});
  EXPECT_EQ(watcher.ReadLine(absl::Seconds(5)),
            "revision " + std::to_string(r2) + " (2 endpoints)");
  EXPECT_EQ(watcher.ReadLine(absl::Seconds(5)), "  + b 127.0.0.1:2 {}");
  const int64_t r3 = EtcdctlWrite(flag, {"del", codec->Key(prefix, a)});
  EXPECT_EQ(watcher.ReadLine(absl::Seconds(5)), "revision " + std::to_string(r3) + " (1 endpoint)");
  EXPECT_EQ(watcher.ReadLine(absl::Seconds(5)), "  - a 127.0.0.1:1 {\"zone\":\"z1\"}");
  const absl::Time signalled = absl::Now();
  watcher.Signal(SIGTERM);
  EXPECT_EQ(watcher.Wait(absl::Seconds(5)), 128 + SIGTERM);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(1));

  ProgramResult bad = ::etcdgrpc::registry::testing::RunProgram(
      {ETCDGRPC_CLI, "--endpoints=" + flag, "resolve", "a/b"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("Error:"));
}

// A 3-member cluster with the resolver's client on member 0 only: stopping
// member 0 breaks the watch while members 1 and 2 keep taking writes.
class ResolverBreakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcdgrpc::testing::LocalEtcdOptions options;
    options.members = 3;
    absl::StatusOr<std::unique_ptr<LocalEtcd>> cluster = LocalEtcd::Start(options);
    ASSERT_THAT(cluster, IsOk());
    cluster_ = *std::move(cluster);
    client_ = ConnectTo({cluster_->ClientEndpoint(0)}, ResolverClient());
    ASSERT_NE(client_, nullptr);
    others_ = "http://" + cluster_->ClientEndpoint(1) + ",http://" + cluster_->ClientEndpoint(2);
  }
  int64_t Put(const ServiceInstance& instance) {
    return EtcdctlWrite(others_, {"put", codec_->Key(prefix_, instance), Value(*codec_, instance)});
  }
  int64_t Delete(const ServiceInstance& instance) {
    return EtcdctlWrite(others_, {"del", codec_->Key(prefix_, instance)});
  }

  std::unique_ptr<LocalEtcd> cluster_;
  std::unique_ptr<Client> client_;
  std::string others_;
  std::string prefix_ = "/services";
  std::shared_ptr<const registry::Codec> codec_ = registry::NativeCodec();
};

TEST_F(ResolverBreakTest, ResumesAfterTheBreakWithNoMissedChange) {
  Resolver resolver(*client_);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  RecordingListener listener;
  ServiceView::Subscription subscription = view->Subscribe(&listener);
  const int64_t r1 = Put(Instance("svc", "a", 1));
  ASSERT_TRUE(WaitForRevision(*view, r1));
  ASSERT_THAT(cluster_->Stop(0), IsOk());
  Put(Instance("svc", "b", 2));
  Delete(Instance("svc", "a", 1));
  const int64_t r4 = Put(Instance("svc", "c", 3));
  ASSERT_THAT(cluster_->Restart(0), IsOk());
  ASSERT_TRUE(WaitForRevision(*view, r4, absl::Seconds(20)));
  ASSERT_TRUE(WaitForListener(listener, r4));
  EXPECT_THAT(Ids(*view->snapshot()), ElementsAre("b", "c"));
  std::vector<Update> updates = listener.updates();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates[0].revision, r1);
  EXPECT_THAT(updates[0].changes, ElementsAre("+a"));
  std::vector<std::string> changes;
  int64_t previous = 0;
  for (const Update& update : updates) {
    EXPECT_GT(update.revision, previous);
    previous = update.revision;
    changes.insert(changes.end(), update.changes.begin(), update.changes.end());
  }
  // Each change exactly once (one update may carry several): resumed from
  // the next revision, not re-listed.
  EXPECT_THAT(changes, UnorderedElementsAre("+a", "+b", "-a", "+c"));
  EXPECT_EQ(view->stats().relists, 0);
  for (const absl::Status& problem : listener.problems()) {
    EXPECT_THAT(problem.message(), ::testing::Not(HasSubstr("compact"))) << problem;
  }
}

TEST_F(ResolverBreakTest, CompactionDuringTheBreakRelistsTheRightSet) {
  Resolver resolver(*client_);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ServiceView> view, resolver.Watch("svc"));
  RecordingListener listener;
  ServiceView::Subscription subscription = view->Subscribe(&listener);
  Put(Instance("svc", "a", 1));
  const int64_t r2 = Put(Instance("svc", "b", 2));
  ASSERT_TRUE(WaitForRevision(*view, r2));
  ASSERT_THAT(cluster_->Stop(0), IsOk());
  Delete(Instance("svc", "a", 1));
  Put(Instance("svc", "b", 2, {{"version", "v2"}}));
  Put(Instance("svc", "c", 3));
  const int64_t last = Put(Instance("other", "x", 4));
  ProgramResult compact = Etcdctl(others_, {"compaction", std::to_string(last), "--physical"});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  ASSERT_THAT(cluster_->Restart(0), IsOk());
  ASSERT_TRUE(WaitForRevision(*view, last, absl::Seconds(20)));
  // The re-listed set differs from the one before the break.
  ASSERT_TRUE(WaitForListener(listener, last));
  std::shared_ptr<const EndpointSet> snapshot = view->snapshot();
  EXPECT_THAT(Ids(*snapshot), ElementsAre("b", "c"));
  EXPECT_EQ(snapshot->endpoints[0]->instance.metadata.at("version"), "v2");
  // The re-list is reported as one diff against the set before the break.
  std::vector<Update> updates = listener.updates();
  ASSERT_FALSE(updates.empty());
  std::vector<std::string> last_changes = updates.back().changes;
  std::sort(last_changes.begin(), last_changes.end());
  EXPECT_THAT(last_changes, ElementsAre("+c", "-a", "~b"));
  bool compaction_reported = false;
  for (const absl::Status& problem : listener.problems()) {
    compaction_reported |= absl::StrContains(problem.message(), "compact");
  }
  EXPECT_TRUE(compaction_reported);
}

}  // namespace
}  // namespace etcdgrpc::resolver
