// The registrar's metric handles for one service (docs/metrics.md), resolved from
// RegistrarOptions::metrics when a registration is made; null handles when metrics are off.
#pragma once

#include <memory>
#include <string>

#include "etcdgrpc/metrics.h"

namespace etcdgrpc::registry::internal {

struct RegistrationMetrics {
  // Null handles when `registry` is null (metrics off).
  static RegistrationMetrics For(MetricsRegistry* registry, const std::string& service);

  // First registrations (Register succeeded).
  Counter registrations;
  // Registered again after a loss, with a new lease.
  Counter reregistrations;
  // Registrations lost (lease lost, key deleted or taken over).
  Counter losses;
  // This process's instances of the service registered now (kRegistered or kReregistered).
  Gauge registered;
};

}  // namespace etcdgrpc::registry::internal
