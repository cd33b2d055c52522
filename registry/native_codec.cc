// The native layout: `{prefix}/{service}/{id}` → {"service","id","address",
// "metadata","registered_at"}.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "etcdgrpc/registry/codec.h"
#include "registry/internal/json_text.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry {
namespace {

// RFC 3339 in UTC with milliseconds, e.g. "2024-05-01T12:34:56.789Z".
constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%E3SZ";

class Native final : public Codec {
 public:
  std::string_view name() const override { return "native"; }
  std::string_view default_prefix() const override { return "/services"; }

  std::string Key(std::string_view prefix, const ServiceInstance& instance) const override {
    return JoinKey(JoinKey(prefix, instance.service), instance.id);
  }

  absl::StatusOr<std::string> Encode(const ServiceInstance& instance) const override {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    json["service"] = instance.service;
    json["id"] = instance.id;
    json["address"] = instance.address;
    json["metadata"] = internal::MetadataObject(instance.metadata);
    if (instance.registered_at != absl::InfinitePast()) {
      json["registered_at"] =
          absl::FormatTime(kTimeFormat, instance.registered_at, absl::UTCTimeZone());
    }
    return internal::Dump(json);
  }

  absl::StatusOr<ServiceInstance> Decode(std::string_view service, std::string_view key,
                                         std::string_view value) const override {
    absl::StatusOr<nlohmann::json> json = internal::ParseObject(key, value);
    if (!json.ok()) return json.status();
    ServiceInstance instance;
    for (auto [field, out] :
         {std::pair{"service", &instance.service}, std::pair{"id", &instance.id},
          std::pair{"address", &instance.address}}) {
      absl::StatusOr<std::string> text = internal::OptionalString(key, *json, field);
      if (!text.ok()) return text.status();
      if (text->empty()) return internal::BadValue(key, absl::StrCat("has no \"", field, "\""));
      *out = *std::move(text);
    }
    if (!service.empty() && instance.service != service) {
      return internal::BadValue(
          key, absl::StrCat("names service \"", internal::Printable(instance.service), "\", not \"",
                            internal::Printable(service), "\""));
    }
    auto metadata =
        internal::ReadMetadata(key, json->value("metadata", nlohmann::json()), "metadata");
    if (!metadata.ok()) return metadata.status();
    instance.metadata = *std::move(metadata);
    absl::StatusOr<std::string> registered = internal::OptionalString(key, *json, "registered_at");
    if (!registered.ok()) return registered.status();
    if (!registered->empty()) {
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, *registered, &instance.registered_at, &error)) {
        return internal::BadValue(
            key, absl::StrCat("has a \"registered_at\" that is not RFC 3339: ", error));
      }
    }
    return instance;
  }
};

}  // namespace

std::shared_ptr<const Codec> NativeCodec() {
  static const auto* codec = new std::shared_ptr<const Codec>(std::make_shared<Native>());
  return *codec;
}

}  // namespace etcdgrpc::registry
