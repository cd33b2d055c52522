// What the resolver publishes: a service's endpoints (decoded registry
// records) as an immutable snapshot with the store revision it reflects, and
// the changes between two snapshots.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "etcdgrpc/export.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::resolver {

struct ETCDGRPC_EXPORT Endpoint {
  // The etcd key of the record and where it was last written.
  std::string key;
  int64_t mod_revision = 0;
  int64_t lease = 0;
  registry::ServiceInstance instance;
  // The weight when metadata has no usable "weight": the codec's
  // (Codec::default_weight(): 100 for Kratos, 1 otherwise).
  int default_weight = 1;

  const std::string& address() const { return instance.address; }
  // metadata "weight" as a positive integer; default_weight when absent or
  // not a number.
  int weight() const;
  // metadata "zone"; empty when absent.
  std::string zone() const;
};

// One immutable view of a service. Shared between threads; never changes.
struct ETCDGRPC_EXPORT EndpointSet {
  std::string service;
  // The store revision this set reflects: every change up to it is in.
  int64_t revision = 0;
  // In key order.
  std::vector<std::shared_ptr<const Endpoint>> endpoints;
};

struct ETCDGRPC_EXPORT EndpointChanges {
  std::vector<std::shared_ptr<const Endpoint>> added;
  std::vector<std::shared_ptr<const Endpoint>> removed;
  // New version of an endpoint whose key was already there.
  std::vector<std::shared_ptr<const Endpoint>> updated;
  bool empty() const { return added.empty() && removed.empty() && updated.empty(); }
};

// The changes from `before` to `after` (matched by key).
[[nodiscard]] ETCDGRPC_EXPORT EndpointChanges Diff(const EndpointSet& before,
                                                   const EndpointSet& after);

}  // namespace etcdgrpc::resolver
