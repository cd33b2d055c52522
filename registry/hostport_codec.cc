// The plainest layout: `{prefix}/{service}/{id}` → the address `host:port`
// and nothing else (many hand-written Go registries store just that).
#include <string>

#include "etcdgrpc/registry/codec.h"
#include "registry/internal/instance_key.h"

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
    return internal::DecodeAddressValue(service, key, value, "{service}/", "an address");
  }
};

}  // namespace

std::shared_ptr<const Codec> HostPortCodec() {
  static const auto* codec = new std::shared_ptr<const Codec>(std::make_shared<HostPort>());
  return *codec;
}

}  // namespace etcdgrpc::registry
