// The resolver's metric handles (docs/metrics.md), resolved from ResolverOptions::metrics when
// a view, a balancer or an endpoint appears, never per pick. Null when metrics are off.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "etcdgrpc/metrics.h"
#include "etcdgrpc/resolver/balancer.h"

namespace etcdgrpc::resolver::internal {

// BalancedStub calls of one service: each call, each attempt (hedges included), and the
// attempts after the first.
struct BalancedCallMetrics {
  Counter calls;
  Counter attempts;
  Counter retries;
};

// One gauge per EndpointHealth value: 1 for the endpoint's current state, 0 for the others.
using HealthGauges = std::array<Gauge, 5>;

class ResolverMetrics {
 public:
  // Null when `registry` is (metrics off).
  static std::shared_ptr<ResolverMetrics> Create(std::shared_ptr<MetricsRegistry> registry);
  explicit ResolverMetrics(std::shared_ptr<MetricsRegistry> registry);

  Gauge Endpoints(const std::string& service);
  Counter Picks(const std::string& service, const std::string& endpoint);
  Counter Ejections(const std::string& service, const std::string& endpoint);
  // Starts at kUnknown = 1.
  HealthGauges Health(const std::string& service, const std::string& endpoint);
  BalancedCallMetrics Calls(const std::string& service);

 private:
  const std::shared_ptr<MetricsRegistry> registry_;
};

// "unknown", "serving", "not_serving", "service_unknown", "unreachable".
std::string EndpointHealthLabel(EndpointHealth health);

}  // namespace etcdgrpc::resolver::internal
