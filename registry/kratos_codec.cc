// go-kratos' etcd registry layout: `{namespace}/{name}/{id}` → Kratos'
// registry.ServiceInstance as Go's json.Marshal writes it (fields in struct
// order: id, name, version, metadata, endpoints; map keys sorted; nil map as
// null; HTML characters escaped). Checked against go-kratos/kratos
// registry/registry.go and contrib/registry/etcd/{registry,service}.go.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

constexpr char kVersion[] = "version";

// "grpc://10.0.0.1:9000?isSecure=false" → "10.0.0.1:9000"; "" when the
// endpoint is not scheme://host:port[…].
std::string HostPort(std::string_view endpoint) {
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string_view rest = endpoint.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  return std::string(rest);
}

class Kratos final : public Codec {
 public:
  std::string_view name() const override { return "kratos"; }
  std::string_view default_prefix() const override { return "/microservices"; }

  std::string Key(std::string_view prefix, const ServiceInstance& instance) const override {
    return JoinKey(JoinKey(prefix, instance.service), instance.id);
  }

  absl::StatusOr<std::string> Encode(const ServiceInstance& instance) const override {
    std::map<std::string, std::string> metadata = instance.metadata;
    std::string version;
    if (auto it = metadata.find(kVersion); it != metadata.end()) {
      version = it->second;
      metadata.erase(it);
    }
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    json["id"] = instance.id;
    json["name"] = instance.service;
    json["version"] = version;
    // A Kratos app without metadata has a nil map, which Go writes as null.
    json["metadata"] =
        metadata.empty() ? nlohmann::ordered_json(nullptr) : internal::MetadataObject(metadata);
    json["endpoints"] = nlohmann::ordered_json::array({"grpc://" + instance.address});
    return internal::DumpGoStyle(json);
  }

  absl::StatusOr<ServiceInstance> Decode(std::string_view service, std::string_view key,
                                         std::string_view value) const override {
    absl::StatusOr<nlohmann::json> json = internal::ParseObject(key, value);
    if (!json.ok()) return json.status();
    ServiceInstance instance;
    absl::StatusOr<std::string> id = internal::OptionalString(key, *json, "id");
    if (!id.ok()) return id.status();
    absl::StatusOr<std::string> name = internal::OptionalString(key, *json, "name");
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> version = internal::OptionalString(key, *json, "version");
    if (!version.ok()) return version.status();
    if (id->empty()) return internal::BadValue(key, "has no \"id\"");
    if (name->empty()) return internal::BadValue(key, "has no \"name\"");
    if (!service.empty() && *name != service) {
      // Kratos' own GetService skips such entries too.
      return internal::BadValue(
          key, absl::StrCat("names service \"", internal::Printable(*name), "\", not \"",
                            internal::Printable(service), "\""));
    }
    instance.id = *std::move(id);
    instance.service = *std::move(name);
    auto metadata = internal::ReadMetadata(
        key, json->contains("metadata") ? json->at("metadata") : nlohmann::json(), "metadata");
    if (!metadata.ok()) return metadata.status();
    instance.metadata = *std::move(metadata);
    if (!version->empty()) instance.metadata[kVersion] = *version;

    std::vector<std::string> endpoints;
    if (auto it = json->find("endpoints"); it != json->end() && !it->is_null()) {
      if (!it->is_array()) return internal::BadValue(key, "has \"endpoints\" that is not a list");
      for (const nlohmann::json& endpoint : *it) {
        if (!endpoint.is_string()) {
          return internal::BadValue(key, "has an endpoint that is not a string");
        }
        endpoints.push_back(endpoint.get<std::string>());
      }
    }
    // The gRPC endpoint is what this library's clients dial; a Kratos app
    // with an HTTP server lists that one as well.
    for (const std::string& endpoint : endpoints) {
      if (absl::StartsWith(endpoint, "grpc://") || absl::StartsWith(endpoint, "grpcs://")) {
        instance.address = HostPort(endpoint);
        break;
      }
    }
    if (instance.address.empty() && !endpoints.empty()) instance.address = HostPort(endpoints[0]);
    if (instance.address.empty()) {
      return internal::BadValue(key, "has no endpoint of the form scheme://host:port");
    }
    return instance;
  }
};

}  // namespace

std::shared_ptr<const Codec> KratosCodec() {
  static const auto* codec = new std::shared_ptr<const Codec>(std::make_shared<Kratos>());
  return *codec;
}

}  // namespace etcdgrpc::registry
