// `user add <name[:password]>`: adds a user, its password from the argument,
// --new-user-password, an interactive prompt or (--interactive=false) one word
// of stdin; --no-password for a user that only TLS client certificates identify.
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

class UserAddCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("name", args_, "<user name or user:password>")->type_name("");
    app.add_flag("--interactive", interactive_,
                 "Read password from stdin instead of interactive terminal");
    app.add_option("--new-user-password", new_user_password_,
                   "Supply password from the command line flag")
        ->type_name("PASSWORD");
    app.add_flag("--no-password", no_password_,
                 "Create a user without password (CN based auth only)");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "user add command requires user name as its argument");
    }
    // etcdctl's order of precedence; with --no-password the whole argument is
    // the name, colon included.
    std::string user = args_[0];
    std::string password;
    UserAddOptions options;
    if (no_password_) {
      options.no_password = true;
    } else if (!new_user_password_.empty()) {
      password = new_user_password_;
    } else if (size_t colon = user.find(':'); colon != std::string::npos) {
      password = user.substr(colon + 1);
      user.resize(colon);
      if (user.empty()) return CliError(kExitBadArgs, "empty user name is not allowed");
    } else if (interactive_) {
      absl::StatusOr<std::string> asked = AskNewPassword(env, user);
      if (!asked.ok()) return asked.status();
      password = *std::move(asked);
    } else {
      password = ScanWord(env.in());
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        user.empty() ? EmptyUserNameOnAdd() : (*client)->auth().UserAdd(user, password, options);
    if (!header.ok()) return header.status();
    return PrintAuthHeader(env, *header, SimpleUserAdd(user));
  }

 private:
  std::vector<std::string> args_;
  bool interactive_ = true;
  std::string new_user_password_;
  bool no_password_ = false;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"user"}, .summary = "User related commands", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "add"}, .summary = "Adds a new user", .make = [] {
       return std::make_unique<UserAddCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
