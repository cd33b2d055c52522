#include "etcdgrpc/resolver/endpoint.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"

namespace etcdgrpc::resolver {

int Endpoint::weight() const {
  auto it = instance.metadata.find("weight");
  int weight = 1;
  if (it == instance.metadata.end() || !absl::SimpleAtoi(it->second, &weight) || weight < 1) {
    return std::max(default_weight, 1);
  }
  return weight;
}

std::string Endpoint::zone() const {
  auto it = instance.metadata.find("zone");
  return it == instance.metadata.end() ? std::string() : it->second;
}

EndpointChanges Diff(const EndpointSet& before, const EndpointSet& after) {
  EndpointChanges changes;
  std::map<std::string, const std::shared_ptr<const Endpoint>*> old_by_key;
  for (const auto& endpoint : before.endpoints) old_by_key[endpoint->key] = &endpoint;
  for (const auto& endpoint : after.endpoints) {
    auto it = old_by_key.find(endpoint->key);
    if (it == old_by_key.end()) {
      changes.added.push_back(endpoint);
      continue;
    }
    const Endpoint& old = **it->second;
    if (old.mod_revision != endpoint->mod_revision || !(old.instance == endpoint->instance)) {
      changes.updated.push_back(endpoint);
    }
    old_by_key.erase(it);
  }
  for (const auto& [key, endpoint] : old_by_key) changes.removed.push_back(*endpoint);
  return changes;
}

}  // namespace etcdgrpc::resolver
