// `endpoint status`: the status of every endpoint given in --endpoints.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
  }

  absl::Status Run(CommandEnv& env) override {
    // Without waiting for a connection, so that every unreachable endpoint is
    // reported on its own line instead of failing the whole command.
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect(/*wait=*/false);
    if (!client.ok()) return client.status();
    std::vector<EndpointStatus> statuses;
    bool failed = false;
    for (const std::string& endpoint : env.flags().endpoints) {
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
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint"}, .summary = "Endpoint related commands", .make = nullptr});

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint", "status"},
     .summary = "Prints out the status of endpoints specified in `--endpoints` flag",
     .make = [] { return std::make_unique<EndpointStatusCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
