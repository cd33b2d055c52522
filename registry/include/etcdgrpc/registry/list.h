// Reading the registry once: every instance of one service, or of all
// services under a prefix, decoded with a codec. Values that do not decode
// are reported, not fatal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/service_instance.h"

namespace etcdgrpc::registry {

struct ETCDGRPC_EXPORT ListedInstance {
  std::string key;
  // The lease holding the key (0: written without a lease).
  int64_t lease = 0;
  int64_t mod_revision = 0;
  ServiceInstance instance;
};

struct ETCDGRPC_EXPORT ListResult {
  // The store revision the listing reflects (watch from revision + 1).
  int64_t revision = 0;
  // In key order.
  std::vector<ListedInstance> instances;
  // One InvalidArgument per key whose value could not be decoded (each names
  // its key), in key order.
  std::vector<absl::Status> skipped;
};

// Lists `service` (empty: every service) under the root `prefix` with one
// linearizable Range. Listing every service needs a non-empty prefix.
[[nodiscard]] ETCDGRPC_EXPORT absl::StatusOr<ListResult> ListInstances(
    Client& client, const Codec& codec, std::string_view prefix, std::string_view service = {});

}  // namespace etcdgrpc::registry
