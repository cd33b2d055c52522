// `auth enable`: turns authentication on; like etcdctl, gives the root user
// the root role first when etcd asks for it.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {

class AuthEnableCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  // Prints the same line whatever --write-out says, like etcdctl.
  absl::Status Run(CommandEnv& env) override {
    if (!args_.empty()) {
      return CliError(kExitBadArgs, "auth enable command does not accept any arguments");
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    Auth auth = (*client)->auth();
    // etcdctl loops while etcd says the root user lacks the root role, adding
    // the role and granting it each time; after one round etcd has both, so a
    // second refusal is reported rather than looped on.
    for (int round = 0;; ++round) {
      absl::StatusOr<ResponseHeader> enabled = auth.Enable();
      if (enabled.ok()) break;
      if (round > 0 ||
          ServerMessage(enabled.status()) != "etcdserver: root user does not have root role") {
        return enabled.status();
      }
      if (absl::StatusOr<ResponseHeader> added = auth.RoleAdd("root"); !added.ok()) {
        return added.status();
      }
      if (absl::StatusOr<ResponseHeader> granted = auth.UserGrantRole("root", "root");
          !granted.ok()) {
        return granted.status();
      }
    }
    env.Print("Authentication Enabled\n");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"auth"}, .summary = "Enable or disable authentication", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"auth", "enable"}, .summary = "Enables authentication", .make = [] {
       return std::make_unique<AuthEnableCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
