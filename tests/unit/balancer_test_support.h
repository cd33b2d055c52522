// Fixed endpoint sets and a fixture that builds a BalancerCore over them, for the unit tests
// of the pickers (resolver_balancer_test.cc) and of outlier ejection (resolver_outlier_test.cc).
#ifndef ETCDGRPC_TESTS_UNIT_BALANCER_TEST_SUPPORT_H_
#define ETCDGRPC_TESTS_UNIT_BALANCER_TEST_SUPPORT_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "etcdgrpc/resolver/balancer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/channel_pool.h"
#include "status_matchers.h"

namespace etcdgrpc::testing {

// Instance `id` of "svc" at "<id>:1".
inline std::shared_ptr<const resolver::Endpoint> MakeEndpoint(
    const std::string& id, std::map<std::string, std::string> metadata = {}) {
  auto endpoint = std::make_shared<resolver::Endpoint>();
  endpoint->key = "/services/svc/" + id;
  endpoint->mod_revision = 1;
  endpoint->instance = {
      .service = "svc", .id = id, .address = id + ":1", .metadata = std::move(metadata)};
  return endpoint;
}

inline resolver::EndpointSet MakeSet(
    std::vector<std::shared_ptr<const resolver::Endpoint>> endpoints) {
  resolver::EndpointSet set;
  set.service = "svc";
  set.revision = 10;
  set.endpoints = std::move(endpoints);
  return set;
}

// Balancers of "svc" over a set, sharing one channel pool (never connected: picks only).
class BalancerCoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<resolver::internal::BalancerCore> Make(const resolver::EndpointSet& set,
                                                         resolver::BalancerOptions options = {}) {
    options.wait_for_endpoints = absl::Milliseconds(100);
    auto core = std::make_shared<resolver::internal::BalancerCore>("svc", options, pool_);
    core->Update(set);
    return core;
  }
  // Picks `n` times and counts picks per endpoint id.
  std::map<std::string, int> Count(resolver::internal::BalancerCore& core, int n) {
    std::map<std::string, int> counts;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<resolver::PickResult> pick = core.Pick();
      EXPECT_THAT(pick, IsOk());
      if (pick.ok()) ++counts[pick->endpoint().instance.id];
    }
    return counts;
  }

  std::shared_ptr<resolver::internal::ChannelPool> pool_ =
      std::make_shared<resolver::internal::ChannelPool>(grpc::InsecureChannelCredentials(),
                                                        grpc::ChannelArguments(), absl::Hours(1));
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_UNIT_BALANCER_TEST_SUPPORT_H_
