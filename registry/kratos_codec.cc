// go-kratos' etcd registry layout: `{namespace}/{name}/{id}` → Kratos'
// registry.ServiceInstance as Go's json.Marshal writes it (fields in struct
// order: id, name, version, metadata, endpoints; map keys sorted; nil map as
// null; HTML characters escaped). Checked against go-kratos/kratos
// registry/registry.go, contrib/registry/etcd/{registry,service}.go,
// transport/grpc/server.go (grpcs:// with TLS), internal/endpoint and
// transport/grpc/resolver/discovery/resolver.go (the scheme a client keeps)
// and selector/node/direct (weight 100 when unset).
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

constexpr char kVersion[] = "version";
// Kratos' selector/node/direct: the weight of a node without one.
constexpr int kKratosDefaultWeight = 100;

// An endpoint URL split as Go's url.Parse would for the parts Kratos reads.
struct EndpointUrl {
  std::string scheme;
  std::string host;  // host:port
};

// "grpc://10.0.0.1:9000" → {grpc, 10.0.0.1:9000}. Kratos' older servers
// wrote "grpc://host:port?isSecure=true" for TLS, which its resolvers read
// as grpcs:// (internal/endpoint legacyURLToNew): so do we.
EndpointUrl ParseEndpoint(std::string_view endpoint) {
  EndpointUrl url;
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return url;
  url.scheme = absl::AsciiStrToLower(internal::ToAbsl(endpoint.substr(0, scheme_end)));
  std::string_view rest = endpoint.substr(scheme_end + 3);
  const size_t host_end = rest.find_first_of("/?#");
  url.host = std::string(rest.substr(0, host_end));
  if (host_end != std::string_view::npos && rest[host_end] == '?') {
    std::string_view query = rest.substr(host_end + 1);
    query = query.substr(0, query.find('#'));
    for (absl::string_view pair : absl::StrSplit(internal::ToAbsl(query), '&')) {
      // Go's strconv.ParseBool spellings of true.
      for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (pair == absl::StrCat("isSecure=", yes) &&
            (url.scheme == "grpc" || url.scheme == "http")) {
          url.scheme += "s";
        }
      }
    }
  }
  return url;
}

class Kratos final : public Codec {
 public:
  explicit Kratos(const KratosCodecOptions& options)
      : scheme_(options.secure ? "grpcs" : "grpc"),
        other_scheme_(options.secure ? "grpc" : "grpcs") {}

  std::string_view name() const override { return "kratos"; }
  std::string_view default_prefix() const override { return "/microservices"; }
  int default_weight() const override { return kKratosDefaultWeight; }
  bool protects_against_mass_disappearance() const override { return true; }

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
    json["endpoints"] =
        nlohmann::ordered_json::array({absl::StrCat(scheme_, "://", instance.address)});
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
    // As Kratos' resolver: the first endpoint of the scheme this client
    // dials; an app with an HTTP server lists that one as well, and it is
    // never dialed (nor is the other gRPC scheme: a TLS client cannot talk
    // to a plaintext server, nor the reverse).
    bool other_scheme = false;
    for (const std::string& endpoint : endpoints) {
      const EndpointUrl url = ParseEndpoint(endpoint);
      if (url.scheme == scheme_ && !url.host.empty()) {
        instance.address = url.host;
        return instance;
      }
      other_scheme = other_scheme || url.scheme == other_scheme_;
    }
    std::string listed;
    for (const std::string& endpoint : endpoints) {
      absl::StrAppend(&listed, listed.empty() ? "" : ", ", internal::Printable(endpoint));
    }
    return internal::BadValue(
        key,
        absl::StrCat("has no ", scheme_, ":// endpoint (",
                     endpoints.empty() ? "no endpoints" : absl::StrCat("endpoints: ", listed), ")",
                     other_scheme
                         ? (scheme_ == "grpc" ? "; a TLS server: read it with "
                                                "KratosCodec({.secure = true}) and TLS credentials"
                                              : "; a plaintext server: read it with KratosCodec()")
                         : ""));
  }

 private:
  const std::string scheme_;
  const std::string other_scheme_;
};

}  // namespace

std::shared_ptr<const Codec> KratosCodec(const KratosCodecOptions& options) {
  if (!options.secure) return KratosCodec();
  static const auto* secure = new std::shared_ptr<const Codec>(
      std::make_shared<Kratos>(KratosCodecOptions{.secure = true}));
  return *secure;
}

std::shared_ptr<const Codec> KratosCodec() {
  static const auto* codec =
      new std::shared_ptr<const Codec>(std::make_shared<Kratos>(KratosCodecOptions{}));
  return *codec;
}

}  // namespace etcdgrpc::registry
