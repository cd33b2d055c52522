// `user passwd <name>`: changes a user's password, asked interactively or
// (--interactive=false) read as one word of stdin.
#include <memory>
#include <string>
#include <vector>

#include "cli/auth_names_command.h"
#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/exit_status.h"
#include "cli/password_input.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class UserPasswdCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("name", args_, "<user name>")->type_name("");
    app.add_flag("--interactive", interactive_,
                 "If true, read password from stdin instead of interactive terminal");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "user passwd command requires user name as its argument");
    }
    const std::string& name = args_[0];
    std::string password;
    if (interactive_) {
      absl::StatusOr<std::string> asked = AskNewPassword(env, name);
      if (!asked.ok()) return asked.status();
      password = *std::move(asked);
    } else {
      password = ScanWord(env.in());
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        name.empty() ? EmptyUserNotFound() : (*client)->auth().UserChangePassword(name, password);
    if (!header.ok()) return header.status();
    return PrintAuthHeader(env, *header, SimpleUserChangePassword());
  }

 private:
  std::vector<std::string> args_;
  bool interactive_ = true;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "passwd"}, .summary = "Changes password of user", .make = [] {
       return std::make_unique<UserPasswdCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
