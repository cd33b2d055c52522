// `endpoint hashkv [--rev] [--cluster]`: each member's hash of its key-value
// history, asked of that member alone.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster_endpoints.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/simple_format.h"
#include "cli/table_format.h"

namespace etcdgrpc::cli {
namespace {

class EndpointHashKVCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", ignored_)->group("");
    app.add_flag("--cluster", cluster_, "use all endpoints from the cluster member list");
    app.add_option("--rev", revision_, "maximum revision to hash (default: all revisions)");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<std::vector<std::string>> endpoints = EndpointsFromCluster(env, cluster_);
    if (!endpoints.ok()) return endpoints.status();
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectToEndpoints(env, *endpoints);
    if (!client.ok()) return client.status();
    Maintenance maintenance = (*client)->maintenance();
    std::vector<EndpointHashKV> list;
    absl::Status last_error;
    for (const std::string& endpoint : *endpoints) {
      absl::StatusOr<HashKVResult> hash = maintenance.HashKV(endpoint, revision_);
      if (!hash.ok()) {
        last_error = hash.status();
        env.PrintError(absl::StrCat("Failed to get the hash of endpoint ", endpoint, " (",
                                    ErrorText(hash.status()), ")\n"));
        continue;
      }
      list.push_back({.endpoint = endpoint, .hash = *std::move(hash)});
    }
    switch (env.format()) {
      case OutputFormat::kSimple:
        env.Print(SimpleEndpointHashKV(list));
        break;
      case OutputFormat::kJson:
        env.Print(JsonEndpointHashKV(list));
        break;
      case OutputFormat::kTable:
        env.Print(TableEndpointHashKV(list));
        break;
      case OutputFormat::kFields:
        env.Print(FieldsEndpointHashKV(list));
        break;
      default:  // protobuf: etcdctl has no printer for it either.
        return FormatNotSupported(env.format());
    }
    return last_error;
  }

 private:
  std::vector<std::string> ignored_;
  bool cluster_ = false;
  int64_t revision_ = 0;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint", "hashkv"},
     .summary = "Prints the KV history hash for each endpoint in --endpoints",
     .make = [] { return std::make_unique<EndpointHashKVCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
