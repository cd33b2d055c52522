// The one rule for a record a server marked NOT_SERVING instead of
// deregistering (registry::NotServingAction::kMark): neither picks nor a
// balancing channel's target include it.
#pragma once

#include "etcdgrpc/registry/serving.h"
#include "etcdgrpc/resolver/endpoint.h"

namespace etcdgrpc::resolver::internal {

[[nodiscard]] inline bool MarkedNotServing(const Endpoint& endpoint) {
  const auto health = endpoint.instance.metadata.find(std::string(registry::kHealthMetadataKey));
  return health != endpoint.instance.metadata.end() && health->second == registry::kNotServingValue;
}

}  // namespace etcdgrpc::resolver::internal
