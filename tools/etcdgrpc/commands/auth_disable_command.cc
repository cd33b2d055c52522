// `auth disable`: turns authentication off.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {
namespace {

class AuthDisableCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  // Prints the same line whatever --write-out says, like etcdctl.
  absl::Status Run(CommandEnv& env) override {
    if (!args_.empty()) {
      return CliError(kExitBadArgs, "auth disable command does not accept any arguments");
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> disabled = (*client)->auth().Disable();
    if (!disabled.ok()) return disabled.status();
    env.Print("Authentication Disabled\n");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"auth", "disable"}, .summary = "Disables authentication", .make = [] {
       return std::make_unique<AuthDisableCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
