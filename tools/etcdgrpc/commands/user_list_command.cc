// `user list`: every user's name.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class UserListCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (!args_.empty()) return CliError(kExitBadArgs, "user list command requires no arguments");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<UserListResult> users = (*client)->auth().UserList();
    if (!users.ok()) return users.status();
    // etcdctl has no fields printer for user list: "fields not supported as
    // output format", after the request.
    const Printers<UserListResult> printers{.simple = SimpleUserList,
                                            .json = JsonUserList,
                                            .table = nullptr,
                                            .fields = nullptr,
                                            .protobuf = ProtobufUserList};
    return printers.Print(env, *users);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "list"}, .summary = "Lists all users", .make = [] {
       return std::make_unique<UserListCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
