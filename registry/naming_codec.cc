// etcd's Go gRPC naming records: GRPCResolver.Update (etcd 3.4
// clientv3/naming/grpc.go) puts json.Marshal(naming.Update{Op, Addr,
// Metadata}) at `{target}/{Addr}`; the 3.5+ endpoints manager
// (client/v3/naming/endpoints) writes the same three fields
// (internal.Update) at `{target}/{any key}`. Both read any such value. An
// Addr without a port (etcd 3.3's GRPCResolver example wrote "1.2.3.4")
// gets the configured default port.
#include <string>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/instance_key.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

// "1.2.3.4" → "1.2.3.4:443", "::1" and "[::1]" → "[::1]:443"; an address
// with a port is returned as it is.
std::string WithDefaultPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  if (!address.empty() && address.front() == '[') {
    if (address.back() == ']') return absl::StrCat(address, ":", port);
    return address;
  }
  if (colon == std::string::npos) return absl::StrCat(address, ":", port);
  if (address.find(':') != colon) return absl::StrCat("[", address, "]:", port);  // bare IPv6
  return address;
}

bool HasPort(const std::string& address) { return WithDefaultPort(address, 1) == address; }

class Naming final : public Codec {
 public:
  explicit Naming(const NamingCodecOptions& options) : options_(options) {}

  std::string_view name() const override { return "naming"; }
  std::string_view default_prefix() const override { return ""; }

  std::string Key(std::string_view prefix, const ServiceInstance& instance) const override {
    return JoinKey(JoinKey(prefix, instance.service), instance.address);
  }

  absl::StatusOr<std::string> Encode(const ServiceInstance& instance) const override {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    json["Op"] = 0;  // naming.Add
    json["Addr"] = instance.address;
    json["Metadata"] = instance.metadata.empty() || !options_.write_metadata
                           ? nlohmann::ordered_json(nullptr)
                           : internal::MetadataObject(instance.metadata);
    return internal::DumpGoStyle(json);
  }

  absl::StatusOr<ServiceInstance> Decode(std::string_view service, std::string_view key,
                                         std::string_view value) const override {
    absl::StatusOr<ServiceInstance> from_key = internal::InstanceFromKey(service, key, "{target}/");
    if (!from_key.ok()) return from_key.status();
    absl::StatusOr<nlohmann::json> json = internal::ParseObject(key, value);
    if (!json.ok()) return json.status();
    ServiceInstance instance = *std::move(from_key);
    if (auto op = json->find("Op"); op != json->end() && !op->is_number_integer()) {
      return internal::BadValue(key, "has an \"Op\" that is not a number");
    }
    // Go's watchers treat every stored record as an addition whatever its
    // Op, so the Op value is not checked further.
    absl::StatusOr<std::string> addr = internal::OptionalString(key, *json, "Addr");
    if (!addr.ok()) return addr.status();
    if (addr->empty()) return internal::BadValue(key, "has no \"Addr\"");
    if (!HasPort(*addr)) {
      if (options_.default_port <= 0 || options_.default_port > 65535) {
        return internal::BadValue(
            key, absl::StrCat("has an \"Addr\" without a port: \"", internal::Printable(*addr),
                              "\" (NamingCodecOptions::default_port is 0)"));
      }
      *addr = WithDefaultPort(*addr, options_.default_port);
    }
    instance.address = *std::move(addr);
    if (auto metadata = json->find("Metadata"); metadata != json->end() && !metadata->is_null()) {
      if (metadata->is_object()) {
        auto read = internal::ReadMetadata(key, *metadata, "Metadata");
        if (!read.ok()) return read.status();
        instance.metadata = *std::move(read);
      } else {
        // Go's Metadata is interface{}: a string, a number, a list.
        instance.metadata["metadata"] =
            metadata->is_string() ? metadata->get<std::string>() : metadata->dump();
      }
    }
    return instance;
  }

 private:
  const NamingCodecOptions options_;
};

}  // namespace

std::shared_ptr<const Codec> NamingCodec(const NamingCodecOptions& options) {
  const NamingCodecOptions defaults;
  if (options.write_metadata == defaults.write_metadata &&
      options.default_port == defaults.default_port) {
    return NamingCodec();
  }
  return std::make_shared<Naming>(options);
}

std::shared_ptr<const Codec> NamingCodec() {
  static const auto* codec =
      new std::shared_ptr<const Codec>(std::make_shared<Naming>(NamingCodecOptions{}));
  return *codec;
}

}  // namespace etcdgrpc::registry
