// `role list`: every role's name.
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

class RoleListCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (!args_.empty()) return CliError(kExitBadArgs, "role list command requires no arguments");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<RoleListResult> roles = (*client)->auth().RoleList();
    if (!roles.ok()) return roles.status();
    const Printers<RoleListResult> printers{.simple = SimpleRoleList,
                                            .json = JsonRoleList,
                                            .table = nullptr,
                                            .fields = FieldsRoleList,
                                            .protobuf = ProtobufRoleList};
    return printers.Print(env, *roles);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "list"}, .summary = "Lists all roles", .make = [] {
       return std::make_unique<RoleListCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
