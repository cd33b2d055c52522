// `endpoint status [--cluster]`: the status of every endpoint given in
// --endpoints, or with --cluster of every member's client URL.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster_endpoints.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"
#include "cli/table_format.h"

namespace etcdgrpc::cli {
namespace {

class EndpointStatusCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    // etcdctl ignores arguments here.
    app.add_option("args", ignored_)->group("");
    app.add_flag("--cluster", cluster_, "use all endpoints from the cluster member list");
  }

  absl::Status Run(CommandEnv& env) override {
    // Without waiting for a connection, so that every unreachable endpoint is
    // reported on its own line instead of failing the whole command.
    absl::StatusOr<std::vector<std::string>> endpoints = EndpointsFromCluster(env, cluster_);
    if (!endpoints.ok()) return endpoints.status();
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectToEndpoints(env, *endpoints);
    if (!client.ok()) return client.status();
    std::vector<EndpointStatus> statuses;
    bool failed = false;
    for (const std::string& endpoint : *endpoints) {
      absl::StatusOr<EndpointStatus> status = (*client)->Status(endpoint);
      if (!status.ok()) {
        failed = true;
        env.PrintError(absl::StrCat("Failed to get the status of endpoint ", endpoint, " (",
                                    ErrorText(status.status()), ")\n"));
        continue;
      }
      status->endpoint = endpoint;
      statuses.push_back(*std::move(status));
    }
    const Printers<std::vector<EndpointStatus>> printers{.simple = SimpleEndpointStatus,
                                                         .json = JsonEndpointStatus,
                                                         .table = TableEndpointStatus,
                                                         .fields = FieldsEndpointStatus,
                                                         .protobuf = nullptr};
    if (absl::Status printed = printers.Print(env, statuses); !printed.ok()) return printed;
    // etcdctl exits with 1 after the per-endpoint messages, without an "Error:" line.
    if (failed) return CliError(kExitError, "");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> ignored_;
  bool cluster_ = false;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint"}, .summary = "Endpoint related commands", .make = nullptr});

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint", "status"},
     .summary = "Prints out the status of endpoints specified in `--endpoints` flag",
     .make = [] { return std::make_unique<EndpointStatusCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
