// The codecs against real etcd and real Go code: etcd 3.4's naming packages
// and grpc-go from Debian (tests/interop/go, built by CMake) register
// services we resolve and dial services we register; go-zero's
// lease-named keys through the Registrar; Kratos records a client cannot
// dial skipped and reported; Kratos' default weight in the resolver.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/resolver.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "registry_process.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "wait_until.h"

namespace etcdgrpc::registry {
namespace {

using ::etcdgrpc::registry::testing::ProgramResult;
using ::etcdgrpc::registry::testing::RunProgram;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WaitUntil;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// A gRPC server answering grpc.health.v1.Health/Check with SERVING and
// counting the calls it answered.
class CountingHealthServer final : public grpc::health::v1::Health::Service {
 public:
  CountingHealthServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~CountingHealthServer() override { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  grpc::Status Check(grpc::ServerContext* /*context*/,
                     const grpc::health::v1::HealthCheckRequest* /*request*/,
                     grpc::health::v1::HealthCheckResponse* response) override {
    calls_.fetch_add(1);
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int calls() const { return calls_.load(); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> calls_{0};
};

class ProblemRecorder final : public resolver::ServiceListener {
 public:
  void OnUpdate(const resolver::EndpointSet& /*set*/,
                const resolver::EndpointChanges& /*changes*/) override {}
  void OnProblem(const absl::Status& problem) override {
    absl::MutexLock lock(&mutex_);
    problems_.push_back(std::string(problem.message()));
  }
  std::vector<std::string> problems() const {
    absl::MutexLock lock(&mutex_);
    return problems_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<std::string> problems_;
};

class CodecInteropTest : public SharedEtcdTest {
 protected:
  void TearDown() override {
    if (client_ != nullptr) (void)client_->DeleteRange(KeyRange::Prefix(TestPrefix()));
  }

  // The Go side: etcdgrpc-gointerop with `args`, bounded.
  ProgramResult Go(std::vector<std::string> args) {
#ifdef ETCDGRPC_GOINTEROP
    std::vector<std::string> argv = {ETCDGRPC_GOINTEROP, args[0],
                                     "-endpoints=" + etcd_->EndpointsFlag()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return RunProgram(argv, absl::Seconds(30));
#else
    (void)args;
    return {};
#endif
  }

  // The Go target (etcd naming's "service") under this test's prefix.
  static std::string Target(const std::string& service) { return TestPrefix() + service; }
};

#ifdef ETCDGRPC_GOINTEROP
#define REQUIRE_GO()
#else
#define REQUIRE_GO() GTEST_SKIP() << "built without Go (golang-go, golang-etcd-server-dev)"
#endif

// (a) etcd's Go endpoints manager registers; our resolver reads it with the
// naming codec, metadata and a port-less Addr included.
TEST_F(CodecInteropTest, GoRegistersWithEtcdNamingWeResolve) {
  REQUIRE_GO();
  ProgramResult with_port = Go({"register", "-service=" + Target("greeter"),
                                "-addr=127.0.0.1:50051", R"(-metadata={"zone":"a","weight":3})"});
  ASSERT_EQ(with_port.exit_code, 0) << with_port.err;
  ProgramResult without_port = Go({"register", "-service=" + Target("greeter"), "-addr=127.0.0.2"});
  ASSERT_EQ(without_port.exit_code, 0) << without_port.err;
  // Byte for byte what Go's json.Marshal of internal.Update wrote.
  absl::StatusOr<GetResult> stored = client_->Get(Target("greeter") + "/127.0.0.2");
  ASSERT_THAT(stored, IsOk());
  ASSERT_THAT(stored->kvs, SizeIs(1));
  EXPECT_EQ(stored->kvs[0].value, R"({"Op":0,"Addr":"127.0.0.2","Metadata":null})");

  resolver::Resolver resolver(*client_, {.prefix = TestPrefix(), .codec = NamingCodec()});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<resolver::ServiceView> view, resolver.Watch("greeter"));
  std::shared_ptr<const resolver::EndpointSet> set = view->snapshot();
  ASSERT_THAT(set->endpoints, SizeIs(2));
  const resolver::Endpoint& a = *set->endpoints[0];
  EXPECT_EQ(a.address(), "127.0.0.1:50051");
  EXPECT_EQ(a.instance.id, "127.0.0.1:50051");
  EXPECT_EQ(a.zone(), "a");
  EXPECT_EQ(a.weight(), 3);
  const resolver::Endpoint& b = *set->endpoints[1];
  EXPECT_EQ(b.instance.id, "127.0.0.2");
  EXPECT_EQ(b.address(), "127.0.0.2:443");  // gRPC's default port
}

// (b) We register three servers with the naming codec (without metadata);
// grpc-go dials etcd:///service through etcd's resolver with round_robin and
// its calls reach all three.
TEST_F(CodecInteropTest, GoClientDialsOurServersThroughEtcdNamingWithRoundRobin) {
  REQUIRE_GO();
  std::vector<std::unique_ptr<CountingHealthServer>> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<CountingHealthServer>());
  Registrar registrar(
      *client_,
      {.prefix = TestPrefix(), .codec = NamingCodec(NamingCodecOptions{.write_metadata = false})});
  std::vector<Registration> registrations;
  for (const auto& server : servers) {
    ASSERT_OK_AND_ASSIGN(Registration registration,
                         registrar.Register({.service = "greeter",
                                             .id = server->address(),
                                             .address = server->address(),
                                             .metadata = {{"zone", "a"}}}));
    registrations.push_back(std::move(registration));
  }
  constexpr int kCalls = 60;
  ProgramResult go = Go({"call", "-service=" + Target("greeter"), absl::StrCat("-calls=", kCalls)});
  ASSERT_EQ(go.exit_code, 0) << go.out << go.err;
  EXPECT_EQ(go.out, absl::StrCat("ok ", kCalls, "\n"));
  int total = 0;
  for (const auto& server : servers) {
    EXPECT_GT(server->calls(), 0) << server->address() << " got no call";
    total += server->calls();
  }
  EXPECT_EQ(total, kCalls);
}

// (c) The same with metadata in the records: Debian 12's grpc-go (1.33)
// round_robin panics hashing resolver.Address, whose Metadata holds the
// map[string]interface{} etcd's resolver decoded. Why
// NamingCodecOptions::write_metadata exists.
TEST_F(CodecInteropTest, DebianGrpcGoRoundRobinPanicsOnNamingMetadata) {
  REQUIRE_GO();
  CountingHealthServer server;
  Registrar registrar(*client_, {.prefix = TestPrefix(), .codec = NamingCodec()});
  ASSERT_OK_AND_ASSIGN(Registration registration,
                       registrar.Register({.service = "greeter",
                                           .id = "g1",
                                           .address = server.address(),
                                           .metadata = {{"zone", "a"}}}));
  ProgramResult go = Go({"call", "-service=" + Target("greeter"), "-calls=3"});
  EXPECT_EQ(go.exit_code, 2) << go.out << go.err;  // a Go panic
  EXPECT_THAT(go.err, HasSubstr("hash of unhashable type map[string]interface {}"));
  EXPECT_EQ(server.calls(), 0);
}

// go-zero: the key names the lease, the value is the address; a new lease
// means a new key and the old one goes; a restart removes its predecessor's
// record at once; values that are not addresses are skipped and reported.
TEST_F(CodecInteropTest, GoZeroKeysFollowTheLease) {
  Registrar registrar(*client_, {.prefix = TestPrefix(), .codec = GoZeroCodec()});
  ASSERT_OK_AND_ASSIGN(
      Registration registration,
      registrar.Register({.service = "user.rpc", .id = "u1", .address = "127.0.0.1:8080"}));
  const std::string first_key = registration.key();
  EXPECT_EQ(first_key, absl::StrCat(TestPrefix(), "user.rpc/", registration.lease_id()));
  absl::StatusOr<GetResult> stored = client_->Get(first_key);
  ASSERT_THAT(stored, IsOk());
  ASSERT_THAT(stored->kvs, SizeIs(1));
  EXPECT_EQ(stored->kvs[0].value, "127.0.0.1:8080");
  EXPECT_EQ(stored->kvs[0].lease, registration.lease_id());

  // The lease goes: registered again with a new lease, at a new key, and
  // nothing is left at the old one.
  const int64_t first_lease = registration.lease_id();
  ASSERT_THAT(client_->Revoke(first_lease), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] { return registration.lease_id() != 0 && registration.lease_id() != first_lease; },
      absl::Seconds(10)));
  EXPECT_EQ(registration.key(), absl::StrCat(TestPrefix(), "user.rpc/", registration.lease_id()));
  absl::StatusOr<GetResult> all = client_->Range(KeyRange::Prefix(TestPrefix() + "user.rpc/"));
  ASSERT_THAT(all, IsOk());
  ASSERT_THAT(all->kvs, SizeIs(1));
  EXPECT_EQ(all->kvs[0].key, registration.key());

  // A record a killed predecessor left (its lease lives on): removed when
  // the instance starts again, not left until its TTL.
  ASSERT_OK_AND_ASSIGN(LeaseGrantResult stale_lease, client_->Grant(60));
  const std::string stale_key = absl::StrCat(TestPrefix(), "user.rpc/", stale_lease.id);
  ASSERT_THAT(client_->Put(stale_key, "127.0.0.1:9090", {.lease = stale_lease.id}), IsOk());
  ASSERT_OK_AND_ASSIGN(
      Registration restarted,
      registrar.Register({.service = "user.rpc", .id = "u2", .address = "127.0.0.1:9090"}));
  stored = client_->Get(stale_key);
  ASSERT_THAT(stored, IsOk());
  EXPECT_THAT(stored->kvs, SizeIs(0));

  // Deregistering removes the key.
  ASSERT_THAT(restarted.Deregister(), IsOk());
  stored = client_->Get(restarted.key());
  ASSERT_THAT(stored, IsOk());
  EXPECT_THAT(stored->kvs, SizeIs(0));

  // The resolver reads go-zero records; one that is not an address is
  // skipped and reported, never a crash or a stall.
  ASSERT_THAT(client_->Put(TestPrefix() + "user.rpc/42", "not an address"), IsOk());
  resolver::Resolver resolver(*client_, {.prefix = TestPrefix(), .codec = GoZeroCodec()});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<resolver::ServiceView> view, resolver.Watch("user.rpc"));
  ProblemRecorder problems;
  resolver::ServiceView::Subscription subscription = view->Subscribe(&problems);
  std::shared_ptr<const resolver::EndpointSet> set = view->snapshot();
  ASSERT_THAT(set->endpoints, SizeIs(1));
  EXPECT_EQ(set->endpoints[0]->address(), "127.0.0.1:8080");
  EXPECT_EQ(set->endpoints[0]->instance.id, absl::StrCat(registration.lease_id()));
  ASSERT_THAT(problems.problems(), SizeIs(1));
  EXPECT_THAT(problems.problems()[0], HasSubstr("user.rpc/42 is not a go-zero address"));
}

// go-zero identifies an instance by its address (its key names only the
// lease): a second live registration of one address is taken for a restart
// and deletes the first one's record. The first one's registration notices
// its key gone and registers again with a new lease, so both stay listed
// after a short gap (docs/codecs.md, "Restarts").
TEST_F(CodecInteropTest, GoZeroTwoLiveRegistrationsOfOneAddressBothEndListed) {
  const RegistrarOptions options = {.prefix = TestPrefix() + "twice/", .codec = GoZeroCodec()};
  const registry::ServiceInstance instance = {
      .service = "user.rpc", .id = "u1", .address = "127.0.0.1:7070"};
  Registrar first_registrar(*client_, options);
  ASSERT_OK_AND_ASSIGN(Registration first, first_registrar.Register(instance));
  const int64_t first_lease = first.lease_id();
  Registrar second_registrar(*client_, options);
  ASSERT_OK_AND_ASSIGN(Registration second, second_registrar.Register(instance));
  // The first record went at the second's start ...
  EXPECT_NE(first.lease_id(), second.lease_id());
  // ... and its owner wrote it back, under a new lease.
  ASSERT_TRUE(WaitUntil([&] { return first.lease_id() != 0 && first.lease_id() != first_lease; },
                        absl::Seconds(10)));
  ASSERT_TRUE(WaitUntil(
      [&] {
        absl::StatusOr<GetResult> all =
            client_->Range(KeyRange::Prefix(TestPrefix() + "twice/user.rpc/"));
        return all.ok() && all->kvs.size() == 2;
      },
      absl::Seconds(10)));
  absl::StatusOr<GetResult> all =
      client_->Range(KeyRange::Prefix(TestPrefix() + "twice/user.rpc/"));
  ASSERT_THAT(all, IsOk());
  std::vector<std::string> keys;
  for (const KeyValue& kv : all->kvs) keys.push_back(kv.key);
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre(first.key(), second.key()));
}

// Kratos: instances a client cannot dial (HTTP only, or TLS for a plaintext
// client) are skipped and reported, not fallen back to; a missing weight is
// Kratos' 100, so an instance with weight 100 and one without weigh the same
// in the weighted picker.
TEST_F(CodecInteropTest, KratosSkipsUndialableInstancesAndWeighsLikeKratos) {
  const std::string root = TestPrefix() + "microservices";
  const std::string dir = root + "/helloworld/";
  ASSERT_THAT(
      client_->Put(dir + "http-only", R"({"id":"http-only","name":"helloworld","version":"",)"
                                      R"("metadata":null,"endpoints":["http://127.0.0.1:8000"]})"),
      IsOk());
  ASSERT_THAT(
      client_->Put(dir + "tls", R"({"id":"tls","name":"helloworld","version":"","metadata":null,)"
                                R"("endpoints":["grpcs://127.0.0.1:9443"]})"),
      IsOk());
  ASSERT_THAT(client_->Put(dir + "plain",
                           R"({"id":"plain","name":"helloworld","version":"","metadata":null,)"
                           R"("endpoints":["http://127.0.0.1:8001","grpc://127.0.0.1:9001"]})"),
              IsOk());
  ASSERT_THAT(client_->Put(dir + "weighted",
                           R"({"id":"weighted","name":"helloworld","version":"",)"
                           R"("metadata":{"weight":"100"},"endpoints":["grpc://127.0.0.1:9002"]})"),
              IsOk());

  resolver::Resolver plain(*client_, {.prefix = root, .codec = KratosCodec()});
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<resolver::ServiceView> view, plain.Watch("helloworld"));
  ProblemRecorder problems;
  resolver::ServiceView::Subscription subscription = view->Subscribe(&problems);
  std::shared_ptr<const resolver::EndpointSet> set = view->snapshot();
  ASSERT_THAT(set->endpoints, SizeIs(2));
  EXPECT_EQ(set->endpoints[0]->instance.id, "plain");
  EXPECT_EQ(set->endpoints[0]->address(), "127.0.0.1:9001");
  EXPECT_EQ(set->endpoints[0]->weight(), 100);
  EXPECT_EQ(set->endpoints[1]->weight(), 100);
  std::vector<std::string> seen = problems.problems();
  ASSERT_THAT(seen, SizeIs(2));
  EXPECT_THAT(seen[0], HasSubstr("http-only has no grpc:// endpoint"));
  EXPECT_THAT(seen[1], HasSubstr("tls has no grpc:// endpoint"));

  // A TLS client keeps only the grpcs:// instance.
  resolver::Resolver secure(
      *client_, {.prefix = root, .codec = KratosCodec(KratosCodecOptions{.secure = true})});
  ASSERT_OK_AND_ASSIGN(view, secure.Watch("helloworld"));
  set = view->snapshot();
  ASSERT_THAT(set->endpoints, SizeIs(1));
  EXPECT_EQ(set->endpoints[0]->address(), "127.0.0.1:9443");
}

}  // namespace
}  // namespace etcdgrpc::registry
