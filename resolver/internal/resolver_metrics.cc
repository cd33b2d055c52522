// The resolver's metric families: endpoints per service, picks, ejections and health per
// endpoint, BalancedStub calls, attempts and retries per service.
#include "resolver/internal/resolver_metrics.h"

#include <utility>

namespace etcdgrpc::resolver::internal {

std::string EndpointHealthLabel(EndpointHealth health) {
  switch (health) {
    case EndpointHealth::kServing:
      return "serving";
    case EndpointHealth::kNotServing:
      return "not_serving";
    case EndpointHealth::kServiceUnknown:
      return "service_unknown";
    case EndpointHealth::kUnreachable:
      return "unreachable";
    case EndpointHealth::kUnknown:
      break;
  }
  return "unknown";
}

std::shared_ptr<ResolverMetrics> ResolverMetrics::Create(
    std::shared_ptr<MetricsRegistry> registry) {
  if (registry == nullptr) return nullptr;
  return std::make_shared<ResolverMetrics>(std::move(registry));
}

ResolverMetrics::ResolverMetrics(std::shared_ptr<MetricsRegistry> registry)
    : registry_(std::move(registry)) {}

// Our own names are valid: value_or only guards against a user's family of the same name and
// another type (that series then records nothing).
Gauge ResolverMetrics::Endpoints(const std::string& service) {
  return registry_
      ->GetGauge("etcdgrpc_resolver_endpoints",
                 "Endpoints of the service in the resolver's view now.", {{"service", service}})
      .value_or(Gauge());
}

Counter ResolverMetrics::Picks(const std::string& service, const std::string& endpoint) {
  return registry_
      ->GetCounter("etcdgrpc_resolver_picks_total", "Endpoints picked by the service's balancers.",
                   {{"service", service}, {"endpoint", endpoint}})
      .value_or(Counter());
}

Counter ResolverMetrics::Ejections(const std::string& service, const std::string& endpoint) {
  return registry_
      ->GetCounter("etcdgrpc_resolver_ejections_total",
                   "Outlier ejections of the endpoint by the service's balancers.",
                   {{"service", service}, {"endpoint", endpoint}})
      .value_or(Counter());
}

HealthGauges ResolverMetrics::Health(const std::string& service, const std::string& endpoint) {
  HealthGauges gauges;
  for (size_t i = 0; i < gauges.size(); ++i) {
    gauges[i] = registry_
                    ->GetGauge("etcdgrpc_resolver_endpoint_health",
                               "1 for the state the endpoint's client-side health check last "
                               "heard, 0 for the others.",
                               {{"service", service},
                                {"endpoint", endpoint},
                                {"state", EndpointHealthLabel(static_cast<EndpointHealth>(i))}})
                    .value_or(Gauge());
  }
  // A new check starts from kUnknown, whatever an earlier check of the endpoint last heard.
  for (size_t i = 0; i < gauges.size(); ++i) {
    gauges[i].Set(i == static_cast<size_t>(EndpointHealth::kUnknown) ? 1 : 0);
  }
  return gauges;
}

BalancedCallMetrics ResolverMetrics::Calls(const std::string& service) {
  const MetricLabels labels = {{"service", service}};
  return BalancedCallMetrics{
      .calls =
          registry_
              ->GetCounter("etcdgrpc_resolver_calls_total",
                           "BalancedStub calls finished (all their attempts together).", labels)
              .value_or(Counter()),
      .attempts = registry_
                      ->GetCounter("etcdgrpc_resolver_call_attempts_total",
                                   "Attempts of BalancedStub calls (hedges included).", labels)
                      .value_or(Counter()),
      .retries = registry_
                     ->GetCounter("etcdgrpc_resolver_call_retries_total",
                                  "Attempts of BalancedStub calls after their first.", labels)
                     .value_or(Counter()),
  };
}

}  // namespace etcdgrpc::resolver::internal
