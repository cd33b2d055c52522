// The registrar's and the resolver's metrics (docs/metrics.md) against a real etcd and
// in-process Greeter servers: registrations, losses and re-registrations, endpoints per
// service, picks, ejections, health-check states and BalancedStub attempts and retries, read
// back through Prometheus' own parser with exact values.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/resolver/balanced_call.h"
#include "etcdgrpc/resolver/resolver.h"
#include "greeter.grpc.pb.h"
#include "greeter_test_server.h"
#include "gtest/gtest.h"
#include "prometheus_text.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc::testing {
namespace {

using ::etcdgrpc::resolver::BalancedStub;
using ::etcdgrpc::resolver::CallPolicy;
using ::etcdgrpc::resolver::CallResult;
using ::etcdgrpc::resolver::HealthChecking;
using ::etcdgrpc::resolver::Resolver;
using ::etcdgrpc::resolver::ResolverOptions;
using Stub = greeter::Greeter::Stub;

constexpr auto kSayHello = &Stub::SayHello;

std::map<std::string, double> Samples(const MetricsRegistry& metrics) {
  absl::StatusOr<std::map<std::string, double>> samples = ParsePrometheusText(metrics.Text());
  EXPECT_TRUE(samples.ok()) << samples.status() << "\n" << metrics.Text();
  return samples.ok() ? *samples : std::map<std::string, double>{};
}

double Sample(const MetricsRegistry& metrics, const std::string& name) {
  std::map<std::string, double> samples = Samples(metrics);
  auto it = samples.find(name);
  return it == samples.end() ? -1 : it->second;
}

std::string Endpoint(const std::string& family, const std::string& address,
                     const std::string& extra = "") {
  return absl::StrCat(family, "{endpoint=", address, ",service=greeter", extra, "}");
}

class RegistryResolverMetricsTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix();
    registrar_ = std::make_unique<registry::Registrar>(
        *client_, registry::RegistrarOptions{.prefix = prefix_,
                                             .retry_backoff = {.initial = absl::Milliseconds(20),
                                                               .max = absl::Milliseconds(100),
                                                               .multiplier = 2.0,
                                                               .jitter = 0.2},
                                             .metrics = metrics_});
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestGreeterServer> server,
                           TestGreeterServer::Start(absl::StrCat("s", i)));
      ASSERT_OK_AND_ASSIGN(
          registry::Registration registration,
          registrar_->Register(
              {.service = "greeter", .id = server->id(), .address = server->address()}));
      registrations_.push_back(std::move(registration));
      servers_.push_back(std::move(server));
    }
    ResolverOptions options{.prefix = prefix_, .metrics = metrics_};
    options.health_checking.scope = HealthChecking::Scope::kAllServices;
    resolver_ = std::make_unique<Resolver>(*client_, options);
  }
  void TearDown() override {
    registrations_.clear();
    servers_.clear();
  }
  bool WaitFor(const std::string& name, double value) {
    return WaitUntil([&] { return Sample(*metrics_, name) == value; }, absl::Seconds(10),
                     absl::Milliseconds(10));
  }

  const std::shared_ptr<MetricsRegistry> metrics_ = std::make_shared<MetricsRegistry>();
  std::string prefix_;
  std::unique_ptr<registry::Registrar> registrar_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<TestGreeterServer>> servers_;
  std::vector<registry::Registration> registrations_;
};

TEST_F(RegistryResolverMetricsTest, RegistrationsLossesAndReregistrations) {
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registrations_total{service=greeter}"), 2);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registered{service=greeter}"), 2);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_reregistrations_total{service=greeter}"), 0);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_losses_total{service=greeter}"), 0);

  // Revoking the lease loses the registration; it registers again with a new lease.
  ASSERT_OK(client_->Revoke(registrations_[0].lease_id()).status());
  ASSERT_TRUE(WaitFor("etcdgrpc_registry_reregistrations_total{service=greeter}", 1));
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_losses_total{service=greeter}"), 1);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registered{service=greeter}"), 2);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registrations_total{service=greeter}"), 2);

  ASSERT_OK(registrations_[1].Deregister());
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registered{service=greeter}"), 1);

  // A registrar without metrics records nothing in this registry.
  registry::Registrar quiet(*client_, registry::RegistrarOptions{.prefix = prefix_});
  ASSERT_OK_AND_ASSIGN(registry::Registration other,
                       quiet.Register({.service = "greeter", .id = "quiet", .address = "q:1"}));
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registrations_total{service=greeter}"), 2);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_registry_registered{service=greeter}"), 1);
}

TEST_F(RegistryResolverMetricsTest, EndpointsPicksHealthEjectionsAttemptsAndRetries) {
  resolver::BalancerOptions balancer_options;
  balancer_options.outlier_ejection.consecutive_failures = 2;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<resolver::Balancer> balancer,
                       resolver_->Balance("greeter", balancer_options));
  ASSERT_TRUE(WaitFor("etcdgrpc_resolver_endpoints{service=greeter}", 2));
  const std::string a0 = servers_[0]->address();
  const std::string a1 = servers_[1]->address();
  for (const std::string& address : {a0, a1}) {
    ASSERT_TRUE(
        WaitFor(Endpoint("etcdgrpc_resolver_endpoint_health", address, ",state=serving"), 1));
    EXPECT_EQ(
        Sample(*metrics_, Endpoint("etcdgrpc_resolver_endpoint_health", address, ",state=unknown")),
        0);
  }

  // All answer: one attempt per call, no retry, round robin over both.
  CallPolicy policy;
  policy.retry.max_attempts = 2;
  policy.idempotent = true;
  BalancedStub<Stub> greeter(balancer, policy);
  greeter::HelloRequest request;
  for (int i = 0; i < 4; ++i) {
    greeter::HelloReply reply;
    ASSERT_OK(greeter.Call(kSayHello, request, &reply).status);
  }
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_calls_total{service=greeter}"), 4);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_call_attempts_total{service=greeter}"), 4);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_call_retries_total{service=greeter}"), 0);
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_picks_total", a0)), 2);
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_picks_total", a1)), 2);

  // s0 fails: its calls are retried on s1, and two failures in a row eject it.
  // An UNAVAILABLE endpoint is also skipped for a backoff after each failure,
  // so its second failure comes only once that has passed: bounded by time.
  servers_[0]->set_behavior(GreeterBehavior::kUnavailable);
  int calls = 4;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (servers_[0]->calls() < 4 && absl::Now() < deadline) {
    greeter::HelloReply reply;
    CallResult result = greeter.Call(kSayHello, request, &reply);
    ASSERT_OK(result.status);
    ++calls;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(servers_[0]->calls(), 4);  // 2 before, 2 failures, then ejected
  const double attempts = servers_[0]->calls() + servers_[1]->calls();
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_calls_total{service=greeter}"), calls);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_call_attempts_total{service=greeter}"), attempts);
  EXPECT_EQ(Sample(*metrics_, "etcdgrpc_resolver_call_retries_total{service=greeter}"), 2);
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_picks_total", a0)), 4);
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_picks_total", a1)), servers_[1]->calls());
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_ejections_total", a0)), 1);
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_ejections_total", a1)), 0);

  // The health check hears NOT_SERVING from s1.
  servers_[1]->SetServing(false);
  ASSERT_TRUE(WaitFor(Endpoint("etcdgrpc_resolver_endpoint_health", a1, ",state=not_serving"), 1));
  EXPECT_EQ(Sample(*metrics_, Endpoint("etcdgrpc_resolver_endpoint_health", a1, ",state=serving")),
            0);

  // A deregistered instance leaves the view.
  ASSERT_OK(registrations_[1].Deregister());
  ASSERT_TRUE(WaitFor("etcdgrpc_resolver_endpoints{service=greeter}", 1));
}

}  // namespace
}  // namespace etcdgrpc::testing
