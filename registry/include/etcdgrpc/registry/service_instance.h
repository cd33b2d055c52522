// A service instance as the registry stores it (service, id, address,
// metadata), and the checks every instance passes before anything is written.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc::registry {

struct ETCDGRPC_EXPORT ServiceInstance {
  // The service's name, e.g. "greeter". Not empty, no '/', valid UTF-8.
  std::string service = {};
  // Unique within the service, e.g. a host name or a UUID. Same rules.
  std::string id = {};
  // Where clients connect: "host:port" ("[v6 address]:port" for IPv6).
  std::string address = {};
  // Free-form string pairs; the resolver's pickers read "weight", "zone",
  // "region" and "version". Keys and values must be valid UTF-8.
  std::map<std::string, std::string> metadata = {};
  // When the instance was (last) registered. Set by the Registrar and by
  // Decode when the stored value carries it; InfinitePast when unknown.
  absl::Time registered_at = absl::InfinitePast();

  friend bool operator==(const ServiceInstance&, const ServiceInstance&) = default;
};

// InvalidArgument naming the offending field when `instance` breaks one of
// the rules above. Codecs may add their own rules (Codec::Validate).
[[nodiscard]] ETCDGRPC_EXPORT absl::Status ValidateInstance(const ServiceInstance& instance);

// "host:port" with a non-empty host (or a bracketed IPv6 address) and a port
// in 1..65535.
[[nodiscard]] ETCDGRPC_EXPORT absl::Status ValidateAddress(std::string_view address);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
[[nodiscard]] ETCDGRPC_EXPORT bool IsValidUtf8(std::string_view text);

}  // namespace etcdgrpc::registry
