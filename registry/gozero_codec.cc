// go-zero's etcd layout (core/discov): Publisher.register grants a lease and
// puts the plain listen address at makeEtcdKey(key, lease) =
// fmt.Sprintf("%s%c%d", key, '/', lease); subscribers watch `{key}/` and dial
// each value as it is. Checked against zeromicro/go-zero core/discov
// publisher.go, clients.go and internal/registry.go.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/instance_key.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

class GoZero final : public Codec {
 public:
  std::string_view name() const override { return "gozero"; }
  // go-zero's Etcd.Key is the whole service key ("user.rpc"): no root.
  std::string_view default_prefix() const override { return ""; }

  absl::Status Validate(const ServiceInstance& instance) const override {
    // The value has no room for metadata: refuse rather than drop it.
    if (!instance.metadata.empty()) {
      return absl::InvalidArgumentError(
          "the gozero codec stores only the address: the instance's metadata would be lost");
    }
    return absl::OkStatus();
  }

  std::string Key(std::string_view prefix, const ServiceInstance& instance) const override {
    return JoinKey(JoinKey(prefix, instance.service), instance.id);
  }
  bool key_uses_lease() const override { return true; }
  std::string LeaseKey(std::string_view prefix, const ServiceInstance& instance,
                       int64_t lease_id) const override {
    // Go's %d of the int64 lease ID.
    return JoinKey(JoinKey(prefix, instance.service), absl::StrCat(lease_id));
  }

  absl::StatusOr<std::string> Encode(const ServiceInstance& instance) const override {
    return instance.address;
  }

  absl::StatusOr<ServiceInstance> Decode(std::string_view service, std::string_view key,
                                         std::string_view value) const override {
    return internal::DecodeAddressValue(service, key, value, "{key}/", "a go-zero address");
  }
};

}  // namespace

std::shared_ptr<const Codec> GoZeroCodec() {
  static const auto* codec = new std::shared_ptr<const Codec>(std::make_shared<GoZero>());
  return *codec;
}

}  // namespace etcdgrpc::registry
