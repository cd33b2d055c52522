// `services [SERVICE]`: lists the registered instances of one service or of
// all, one line each; values that do not decode are skipped with a warning.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "cli/registry_flags.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/list.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  // Values come from etcd and may hold invalid UTF-8: replace, never throw.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json MetadataJson(const std::map<std::string, std::string>& metadata) {
  Json object = Json::object();
  for (const auto& [key, value] : metadata) object[key] = value;
  return object;
}

class ServicesCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("service", service_, "list only this service")->type_name("SERVICE");
    AddRegistryFlags(app, &registry_flags_);
  }

  absl::Status Run(CommandEnv& env) override {
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());
    absl::StatusOr<RegistryLayout> layout = ParseRegistryFlags(registry_flags_);
    if (!layout.ok()) return layout.status();
    const std::string prefix =
        layout->prefix.value_or(std::string(layout->codec->default_prefix()));
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<registry::ListResult> listed =
        registry::ListInstances(**client, *layout->codec, prefix, service_);
    if (!listed.ok()) return listed.status();
    for (const absl::Status& skipped : listed->skipped) {
      env.PrintError(absl::StrCat("warning: skipped ", skipped.message(), "\n"));
    }
    if (env.format() == OutputFormat::kJson) {
      Json instances = Json::array();
      for (const registry::ListedInstance& listed_instance : listed->instances) {
        const registry::ServiceInstance& instance = listed_instance.instance;
        Json json;
        json["key"] = listed_instance.key;
        json["lease"] = listed_instance.lease;
        json["service"] = instance.service;
        json["id"] = instance.id;
        json["address"] = instance.address;
        json["metadata"] = MetadataJson(instance.metadata);
        if (instance.registered_at != absl::InfinitePast()) {
          json["registered_at"] =
              absl::FormatTime(absl::RFC3339_full, instance.registered_at, absl::UTCTimeZone());
        }
        instances.push_back(std::move(json));
      }
      Json out;
      out["revision"] = listed->revision;
      out["instances"] = std::move(instances);
      env.Print(Dump(out) + "\n");
      return absl::OkStatus();
    }
    for (const registry::ListedInstance& listed_instance : listed->instances) {
      const registry::ServiceInstance& instance = listed_instance.instance;
      env.Print(absl::StrCat(instance.service, " ", instance.id, " ", instance.address, " ",
                             Dump(MetadataJson(instance.metadata)), "\n"));
    }
    return absl::OkStatus();
  }

 private:
  std::string service_;
  RegistryFlags registry_flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"services"},
     .summary = "Lists registered service instances (service, id, address, metadata)",
     .make = [] { return std::make_unique<ServicesCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
