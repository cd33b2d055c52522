#include "registry/internal/instance_key.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

absl::StatusOr<ServiceInstance> InstanceFromKey(std::string_view service, std::string_view key,
                                                std::string_view parent) {
  const size_t slash = key.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == key.size()) {
    return BadValue(key, absl::StrCat("is not under a ", ToAbsl(parent), " prefix"));
  }
  ServiceInstance instance;
  instance.id = std::string(key.substr(slash + 1));
  if (service.empty()) {
    const std::string_view before = key.substr(0, slash);
    instance.service = std::string(before.substr(before.rfind('/') + 1));
  } else {
    instance.service = std::string(service);
  }
  return instance;
}

absl::StatusOr<ServiceInstance> DecodeAddressValue(std::string_view service, std::string_view key,
                                                   std::string_view value, std::string_view parent,
                                                   std::string_view what) {
  absl::StatusOr<ServiceInstance> instance = InstanceFromKey(service, key, parent);
  if (!instance.ok()) return instance.status();
  if (absl::Status address = ValidateAddress(value); !address.ok()) {
    return BadValue(key, absl::StrCat("is not ", ToAbsl(what), ": ", address.message()));
  }
  instance->address = std::string(value);
  return instance;
}

}  // namespace etcdgrpc::registry::internal
