// `lease list`: the ids of all active leases.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/json_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class LeaseListCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    // etcdctl ignores arguments here.
    app.add_option("ignored", ignored_)->type_name("")->group("");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<LeaseListResult> result = (*client)->Leases();
    if (!result.ok()) return CliError(kExitBadConnection, ErrorText(result.status()));
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());
    env.Print(env.format() == OutputFormat::kJson ? JsonLeaseList(*result)
                                                  : SimpleLeaseList(*result));
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> ignored_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "list"}, .summary = "List all active leases", .make = [] {
       return std::make_unique<LeaseListCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
