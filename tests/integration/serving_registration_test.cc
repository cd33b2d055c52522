// ServingRegistration on a real etcd with real gRPC servers on 127.0.0.1:0:
// SetServing removes or marks the record and sets the health service's
// status (checked with grpc.health.v1 Check calls), SERVING restores both;
// the drain's order and bounds (also with etcd black-holed); bad input.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/registry/serving.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "fault_proxy.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "registration_recorder.h"
#include "shared_etcd.h"
#include "wait_until.h"

namespace etcdgrpc::testing {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using registry::NotServingAction;
using registry::RegistrationState;
using registry::ServingRegistration;
using ::testing::HasSubstr;

constexpr char kKvService[] = "etcdserverpb.KV";

// A gRPC server on a free loopback port serving an (unimplemented) KV
// service and gRPC's default health service.
struct TestServer {
  TestServer() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&kv);
    server = builder.BuildAndStart();
    address = "127.0.0.1:" + std::to_string(port);
  }
  ~TestServer() {
    if (server != nullptr) server->Shutdown(std::chrono::system_clock::now());
  }

  etcdserverpb::KV::Service kv;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

// grpc.health.v1.Health/Check of `service` on `address`: "SERVING",
// "NOT_SERVING", or "rpc error: ..." when the call failed.
std::string Check(const std::string& address, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return "rpc error: " + std::to_string(status.error_code()) + " " + status.error_message();
  }
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

class ServingRegistrationTest : public SharedEtcdTest {
 protected:
  ServingRegistrationTest() : SharedEtcdTest({.request_timeout = absl::Seconds(1)}) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    registrar_ = std::make_unique<registry::Registrar>(*client_, Options());
  }

  registry::ServiceInstance Instance(const TestServer& server) const {
    return {.service = "svc", .id = "a", .address = server.address, .metadata = {{"zone", "z"}}};
  }
  registry::RegistrarOptions Options() const {
    return {.prefix = TestPrefix() + "services", .ttl = absl::Seconds(2)};
  }
  // `server` registered as Instance(server) through registrar_.
  absl::StatusOr<ServingRegistration> Register(const TestServer& server,
                                               const registry::ServingOptions& options = {},
                                               registry::RegistrationListener* listener = nullptr) {
    return ServingRegistration::Register(*registrar_, server.server.get(), Instance(server),
                                         options, listener);
  }
  // The record at `key`, decoded; NOT_FOUND when absent.
  absl::StatusOr<registry::ServiceInstance> Read(const std::string& key) {
    absl::StatusOr<GetResult> got = client_->Get(key);
    if (!got.ok()) return got.status();
    if (got->kvs.empty()) return absl::NotFoundError(key);
    return registrar_->codec().Decode("svc", key, got->kvs[0].value);
  }

  std::unique_ptr<registry::Registrar> registrar_;
};

TEST_F(ServingRegistrationTest, RemoveFollowsTheServingStatusAndKeepsOneListenerStory) {
  TestServer server;
  RegistrationRecorder recorder;
  auto serving = Register(server, {}, &recorder);
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_THAT(serving->health_services(), ::testing::ElementsAre("", kKvService));
  EXPECT_TRUE(Read(serving->key()).ok());
  EXPECT_EQ(Check(server.address, ""), "SERVING");
  EXPECT_EQ(Check(server.address, kKvService), "SERVING");
  const int64_t first_lease = serving->lease_id();

  ASSERT_TRUE(serving->SetServing(false).ok());
  EXPECT_FALSE(serving->serving());
  EXPECT_TRUE(absl::IsNotFound(Read(serving->key()).status()));
  EXPECT_EQ(Check(server.address, ""), "NOT_SERVING");
  EXPECT_EQ(Check(server.address, kKvService), "NOT_SERVING");
  EXPECT_EQ(serving->state(), RegistrationState::kDeregistered);
  EXPECT_EQ(serving->lease_id(), 0);
  ASSERT_TRUE(serving->SetServing(false).ok());  // idempotent

  ASSERT_TRUE(serving->SetServing(true).ok());
  absl::StatusOr<registry::ServiceInstance> restored = Read(serving->key());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->metadata.at("zone"), "z");
  EXPECT_NE(serving->lease_id(), 0);
  EXPECT_NE(serving->lease_id(), first_lease);
  EXPECT_EQ(Check(server.address, ""), "SERVING");

  ASSERT_TRUE(recorder.WaitFor(RegistrationState::kReregistered, absl::Seconds(5)));
  ASSERT_TRUE(serving->Deregister().ok());
  EXPECT_THAT(recorder.states(), ::testing::ElementsAre(RegistrationState::kRegistered,
                                                        RegistrationState::kReregistered,
                                                        RegistrationState::kDeregistered));
  EXPECT_TRUE(absl::IsFailedPrecondition(serving->SetServing(true)));
  EXPECT_EQ(Check(server.address, ""), "NOT_SERVING");
}

TEST_F(ServingRegistrationTest, MarkKeepsTheKeyAndLeaseAndAddsTheHealthPair) {
  TestServer server;
  auto serving = Register(server, {.not_serving = NotServingAction::kMark});
  ASSERT_TRUE(serving.ok()) << serving.status();
  const int64_t lease = serving->lease_id();

  ASSERT_TRUE(serving->SetServing(false).ok());
  absl::StatusOr<registry::ServiceInstance> marked = Read(serving->key());
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_EQ(marked->metadata.at("health"), "NOT_SERVING");
  EXPECT_EQ(serving->lease_id(), lease);
  EXPECT_EQ(Check(server.address, kKvService), "NOT_SERVING");

  // Metadata changed while marked keeps the mark on top.
  ASSERT_TRUE(serving->Update({{"zone", "y"}}).ok());
  marked = Read(serving->key());
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(marked->metadata.at("zone"), "y");
  EXPECT_EQ(marked->metadata.at("health"), "NOT_SERVING");

  ASSERT_TRUE(serving->SetServing(true).ok());
  absl::StatusOr<registry::ServiceInstance> restored = Read(serving->key());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->metadata.count("health"), 0u);
  EXPECT_EQ(restored->metadata.at("zone"), "y");
  EXPECT_EQ(serving->lease_id(), lease);
  EXPECT_EQ(Check(server.address, kKvService), "SERVING");
}

TEST_F(ServingRegistrationTest, StartingNotServingWritesNothingUntilServing) {
  TestServer server;
  auto serving = Register(server, {.health_services = {kKvService}, .serving = false});
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_TRUE(absl::IsNotFound(Read(serving->key()).status()));
  EXPECT_EQ(Check(server.address, kKvService), "NOT_SERVING");
  ASSERT_TRUE(serving->SetServing(true).ok());
  EXPECT_TRUE(Read(serving->key()).ok());
  EXPECT_EQ(Check(server.address, kKvService), "SERVING");
}

TEST_F(ServingRegistrationTest, BadInputIsRefusedBeforeAnythingIsWritten) {
  TestServer server;
  auto null_server = ServingRegistration::Register(*registrar_, nullptr, Instance(server));
  EXPECT_TRUE(absl::IsInvalidArgument(null_server.status())) << null_server.status();
  EXPECT_THAT(null_server.status().message(), HasSubstr("null"));

  auto unknown = Register(server, {.health_services = {"no.such.Service"}});
  EXPECT_TRUE(absl::IsInvalidArgument(unknown.status())) << unknown.status();
  EXPECT_THAT(unknown.status().message(), HasSubstr("\"no.such.Service\" is not served"));
  EXPECT_THAT(unknown.status().message(), HasSubstr(kKvService));
  EXPECT_TRUE(absl::IsNotFound(Read(registrar_->KeyOf(Instance(server))).status()));

  grpc::EnableDefaultHealthCheckService(false);
  grpc::ServerBuilder builder;
  int port = 0;
  etcdserverpb::KV::Service kv;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&kv);
  std::unique_ptr<grpc::Server> no_health = builder.BuildAndStart();
  ASSERT_NE(no_health, nullptr);
  grpc::EnableDefaultHealthCheckService(true);
  auto without = ServingRegistration::Register(*registrar_, no_health.get(), Instance(server));
  EXPECT_TRUE(absl::IsFailedPrecondition(without.status())) << without.status();
  EXPECT_THAT(without.status().message(), HasSubstr("EnableDefaultHealthCheckService"));
  no_health->Shutdown(std::chrono::system_clock::now());
}

TEST_F(ServingRegistrationTest, DrainRemovesTheKeyBeforeTheServerStops) {
  TestServer server;
  RegistrationRecorder recorder;
  auto serving = Register(server, {}, &recorder);
  ASSERT_TRUE(serving.ok()) << serving.status();
  const std::string key = serving->key();

  // Polls the key while the drain runs: when did it go?
  std::atomic<bool> stop{false};
  std::atomic<int64_t> gone_at_ns{0};
  std::thread poller([&] {
    while (!stop.load()) {
      absl::StatusOr<GetResult> got = client_->Get(key);
      if (got.ok() && got->kvs.empty()) {
        gone_at_ns.store(absl::ToUnixNanos(absl::Now()));
        return;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  const absl::Time start = absl::Now();
  registry::DrainReport report = serving->Drain({.grace = absl::Milliseconds(50)});
  stop.store(true);
  poller.join();
  EXPECT_TRUE(report.status().ok()) << report.ToString();
  EXPECT_EQ(report.members, 1);
  EXPECT_EQ(report.members_applied, 1);
  EXPECT_GE(report.grace.took, absl::Milliseconds(50));
  ASSERT_NE(gone_at_ns.load(), 0);
  const absl::Time shutdown_began = start + report.not_serving.took + report.deregister.took +
                                    report.propagate.took + report.grace.took;
  EXPECT_LE(absl::FromUnixNanos(gone_at_ns.load()), shutdown_began) << report.ToString();
  EXPECT_LT(report.total, absl::Seconds(2)) << report.ToString();
  // The server is gone; the listener heard the end once.
  EXPECT_THAT(Check(server.address, ""), HasSubstr("rpc error"));
  EXPECT_EQ(recorder.Last()->state, RegistrationState::kDeregistered);
  EXPECT_TRUE(absl::IsFailedPrecondition(serving->SetServing(true)));
  EXPECT_TRUE(serving->Deregister().ok());
  server.server.reset();
}

TEST_F(ServingRegistrationTest, DrainKeepsItsBoundsWithEtcdBlackHoled) {
  auto proxy = FaultProxy::Start({.target_port = std::stoi(etcd_->ClientEndpoint(0).substr(
                                      etcd_->ClientEndpoint(0).rfind(':') + 1))});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::unique_ptr<Client> client =
      ConnectTo({(*proxy)->address()}, {.request_timeout = absl::Milliseconds(800)});
  ASSERT_NE(client, nullptr);
  TestServer server;
  registry::Registrar registrar(*client, Options());
  auto serving = ServingRegistration::Register(registrar, server.server.get(), Instance(server));
  ASSERT_TRUE(serving.ok()) << serving.status();

  (*proxy)->SetBlackHole(BlackHole::kDrop);
  const registry::DrainOptions options = {.propagation_timeout = absl::Milliseconds(300),
                                          .grace = absl::Milliseconds(50),
                                          .shutdown_deadline = absl::Milliseconds(300)};
  registry::DrainReport report = serving->Drain(options);
  EXPECT_FALSE(report.status().ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(report.deregister.status)) << report.ToString();
  EXPECT_TRUE(absl::IsFailedPrecondition(report.propagate.status)) << report.ToString();
  // Request time-out + grace + shutdown deadline, and some slack.
  EXPECT_LT(report.total, absl::Milliseconds(800 + 50 + 300 + 700)) << report.ToString();
  EXPECT_THAT(Check(server.address, ""), HasSubstr("rpc error"));
  (*proxy)->Pass();
}

TEST_F(ServingRegistrationTest, AFailedRegisterLeavesTheHealthStatusesAsTheyWere) {
  auto proxy = FaultProxy::Start({.target_port = std::stoi(etcd_->ClientEndpoint(0).substr(
                                      etcd_->ClientEndpoint(0).rfind(':') + 1))});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::unique_ptr<Client> client =
      ConnectTo({(*proxy)->address()}, {.request_timeout = absl::Milliseconds(500)});
  ASSERT_NE(client, nullptr);
  registry::Registrar registrar(*client, Options());
  TestServer server;
  server.server->GetHealthCheckService()->SetServingStatus(kKvService, true);

  (*proxy)->SetBlackHole(BlackHole::kDrop);
  auto serving = ServingRegistration::Register(registrar, server.server.get(), Instance(server));
  EXPECT_FALSE(serving.ok());
  EXPECT_EQ(Check(server.address, ""), "SERVING");
  EXPECT_EQ(Check(server.address, kKvService), "SERVING");

  // Starting NOT_SERVING with kMark fails the same way, and still restores.
  auto marked =
      ServingRegistration::Register(registrar, server.server.get(), Instance(server),
                                    {.not_serving = NotServingAction::kMark, .serving = false});
  EXPECT_FALSE(marked.ok());
  EXPECT_EQ(Check(server.address, ""), "SERVING");
  EXPECT_EQ(Check(server.address, kKvService), "SERVING");
  (*proxy)->Pass();
}

TEST_F(ServingRegistrationTest, MarkIsRefusedWithCodecsThatDropOrRefuseMetadata) {
  TestServer server;
  server.server->GetHealthCheckService()->SetServingStatus(kKvService, true);
  struct Case {
    std::shared_ptr<const registry::Codec> codec;
    bool with_metadata;
  };
  const Case cases[] = {{registry::NamingCodec({.write_metadata = false}), true},
                        {registry::GoZeroCodec(), false},
                        {registry::HostPortCodec(), false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.codec->name());
    // The kRemove registration of the previous case left it NOT_SERVING.
    server.server->GetHealthCheckService()->SetServingStatus(kKvService, true);
    registry::Registrar registrar(
        *client_, {.prefix = TestPrefix() + "mark", .ttl = absl::Seconds(2), .codec = c.codec});
    registry::ServiceInstance instance = Instance(server);
    if (!c.with_metadata) instance.metadata.clear();
    for (bool serving : {true, false}) {
      auto marked = ServingRegistration::Register(
          registrar, server.server.get(), instance,
          {.not_serving = NotServingAction::kMark, .serving = serving});
      EXPECT_TRUE(absl::IsFailedPrecondition(marked.status())) << marked.status();
      EXPECT_THAT(marked.status().message(), HasSubstr(std::string(c.codec->name()) + " codec"));
      EXPECT_THAT(marked.status().message(), HasSubstr("kRemove"));
    }
    EXPECT_EQ(Check(server.address, kKvService), "SERVING");
    absl::StatusOr<GetResult> written =
        client_->Range(KeyRange::Prefix(TestPrefix() + "mark"), {.count_only = true});
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(written->count, 0);
    // kRemove works with each of them.
    auto removed = ServingRegistration::Register(registrar, server.server.get(), instance);
    EXPECT_TRUE(removed.ok()) << removed.status();
  }
  // A codec that keeps metadata marks.
  registry::Registrar naming(*client_, {.prefix = TestPrefix() + "mark-naming",
                                        .ttl = absl::Seconds(2),
                                        .codec = registry::NamingCodec()});
  auto marked = ServingRegistration::Register(naming, server.server.get(), Instance(server),
                                              {.not_serving = NotServingAction::kMark});
  EXPECT_TRUE(marked.ok()) << marked.status();
}

// The listener, called on the registrar's runner with kLost (the key was
// deleted), calls SetServing and Update while another thread drains: the
// drain holds the operation lock and waits for that listener call to end. It
// must be refused, not wait for the drain (a deadlock).
TEST_F(ServingRegistrationTest, ListenerCallsDuringADrainAreRefusedNotDeadlocked) {
  TestServer server;
  RegistrationRecorder recorder;
  std::atomic<ServingRegistration*> target{nullptr};
  std::promise<void> in_listener;
  std::promise<void> drain_started;
  std::shared_future<void> drain_started_future = drain_started.get_future().share();
  std::atomic<bool> reacted{false};
  absl::Status set_serving;
  absl::Status update;
  recorder.react = [&](const registry::RegistrationEvent& event) {
    if (event.state != RegistrationState::kLost &&
        event.state != RegistrationState::kReregistered) {
      return;
    }
    if (reacted.exchange(true)) return;
    in_listener.set_value();
    // The drain takes the operation lock, then waits for this call.
    drain_started_future.wait();
    absl::SleepFor(absl::Milliseconds(200));
    set_serving = target.load()->SetServing(false);
    update = target.load()->Update({{"zone", "y"}});
  };
  auto serving = Register(server, {.not_serving = NotServingAction::kMark}, &recorder);
  ASSERT_TRUE(serving.ok()) << serving.status();
  target.store(&*serving);

  ASSERT_TRUE(client_->Delete(serving->key()).ok());
  std::future<registry::DrainReport> drained = std::async(std::launch::async, [&] {
    in_listener.get_future().wait();
    drain_started.set_value();
    return serving->Drain({.grace = absl::ZeroDuration(), .shutdown_server = false});
  });
  if (drained.wait_for(std::chrono::seconds(15)) != std::future_status::ready) {
    // Deadlocked threads cannot be joined: fail loudly instead of hanging.
    ADD_FAILURE() << "the drain and the listener's SetServing deadlocked";
    std::fputs("ListenerCallsDuringADrainAreRefusedNotDeadlocked: deadlock, aborting\n", stderr);
    std::abort();
  }
  registry::DrainReport report = drained.get();
  EXPECT_TRUE(absl::IsFailedPrecondition(set_serving)) << set_serving;
  EXPECT_THAT(set_serving.message(), HasSubstr("own listener call"));
  EXPECT_TRUE(absl::IsFailedPrecondition(update)) << update;
  EXPECT_TRUE(report.deregister.status.ok()) << report.ToString();
  EXPECT_EQ(recorder.Last()->state, RegistrationState::kDeregistered);
  EXPECT_EQ(Check(server.address, ""), "NOT_SERVING");
}

// The listener is never called with the operation lock held: a listener
// call caused by SetServing (the kDeregistered of Deregister) may wait for
// another thread's SetServing, which then is not stuck behind it.
TEST_F(ServingRegistrationTest, TheListenerIsNotCalledUnderTheOperationLock) {
  TestServer server;
  RegistrationRecorder recorder;
  std::atomic<ServingRegistration*> target{nullptr};
  absl::Status other_thread;
  recorder.react = [&](const registry::RegistrationEvent& event) {
    if (event.state != RegistrationState::kDeregistered) return;
    // Another thread's operation, waited for inside the listener call.
    std::future<absl::Status> other = std::async(std::launch::async, [&] {
      return target.load()->Update({{"zone", "x"}});
    });
    if (other.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the listener was called under the operation lock";
      std::fputs("TheListenerIsNotCalledUnderTheOperationLock: deadlock, aborting\n", stderr);
      std::abort();
    }
    other_thread = other.get();
  };
  auto serving = Register(server, {}, &recorder);
  ASSERT_TRUE(serving.ok()) << serving.status();
  target.store(&*serving);
  ASSERT_TRUE(recorder.WaitFor(RegistrationState::kRegistered, absl::Seconds(5)));
  ASSERT_TRUE(serving->Deregister().ok());
  EXPECT_TRUE(other_thread.ok()) << other_thread;
  EXPECT_EQ(recorder.Last()->state, RegistrationState::kDeregistered);
}

}  // namespace
}  // namespace etcdgrpc::testing
