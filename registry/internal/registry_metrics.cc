// The registrar's metric families: registrations, re-registrations, losses and instances
// registered now, per service.
#include "registry/internal/registry_metrics.h"

namespace etcdgrpc::registry::internal {

RegistrationMetrics RegistrationMetrics::For(MetricsRegistry* registry,
                                             const std::string& service) {
  if (registry == nullptr) return {};
  const MetricLabels labels = {{"service", service}};
  // Our own names are valid: value_or only guards against a user's family of the same name
  // and another type (that series then records nothing).
  return RegistrationMetrics{
      .registrations = registry
                           ->GetCounter("etcdgrpc_registry_registrations_total",
                                        "Instances registered (Register succeeded).", labels)
                           .value_or(Counter()),
      .reregistrations =
          registry
              ->GetCounter("etcdgrpc_registry_reregistrations_total",
                           "Instances registered again after a loss, with a new lease.", labels)
              .value_or(Counter()),
      .losses =
          registry
              ->GetCounter("etcdgrpc_registry_losses_total",
                           "Registrations lost (lease lost, key deleted or taken over).", labels)
              .value_or(Counter()),
      .registered =
          registry
              ->GetGauge("etcdgrpc_registry_registered",
                         "Instances of the service this process has registered now.", labels)
              .value_or(Gauge()),
  };
}

}  // namespace etcdgrpc::registry::internal
