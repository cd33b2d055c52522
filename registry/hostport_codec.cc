// The plainest layout: `{prefix}/{service}/{id}` → the address `host:port`
// and nothing else (many hand-written Go registries store just that).
#include <string>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/json_text.h"

namespace etcdgrpc::registry {
namespace {

class HostPort final : public Codec {
 public:
  std::string_view name() const override { return "hostport"; }
  std::string_view default_prefix() const override { return "/services"; }

  absl::Status Validate(const ServiceInstance& instance) const override {
    // The value has no room for metadata: refuse rather than drop it.
    if (!instance.metadata.empty()) {
      return absl::InvalidArgumentError(
          "the hostport codec stores only the address: the instance's metadata would be lost");
    }
    return absl::OkStatus();
  }

  std::string Key(std::string_view prefix, const ServiceInstance& instance) const override {
    return JoinKey(JoinKey(prefix, instance.service), instance.id);
  }

  absl::StatusOr<std::string> Encode(const ServiceInstance& instance) const override {
    return instance.address;
  }

  absl::StatusOr<ServiceInstance> Decode(std::string_view service, std::string_view key,
                                         std::string_view value) const override {
    const size_t slash = key.rfind('/');
    if (slash == std::string_view::npos || slash + 1 == key.size()) {
      return internal::BadValue(key, "is not under a {service}/ prefix");
    }
    if (absl::Status address = ValidateAddress(value); !address.ok()) {
      return internal::BadValue(key, absl::StrCat("is not an address: ", address.message()));
    }
    ServiceInstance instance;
    instance.id = std::string(key.substr(slash + 1));
    if (service.empty()) {
      const std::string_view parent = key.substr(0, slash);
      instance.service = std::string(parent.substr(parent.rfind('/') + 1));
    } else {
      instance.service = std::string(service);
    }
    instance.address = std::string(value);
    return instance;
  }
};

}  // namespace

std::shared_ptr<const Codec> HostPortCodec() {
  static const auto* codec = new std::shared_ptr<const Codec>(std::make_shared<HostPort>());
  return *codec;
}

}  // namespace etcdgrpc::registry
