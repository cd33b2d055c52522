// `role add <role>`: adds a role, with no permissions.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class RoleAddCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<role name>")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1)
      return CliError(kExitBadArgs, "role add command requires role name as its argument");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        args_[0].empty() ? EmptyRoleNameOnAdd() : (*client)->auth().RoleAdd(args_[0]);
    if (!header.ok()) return header.status();
    const Printers<ResponseHeader> printers{
        .simple = [&](const ResponseHeader&) { return SimpleRoleAdd(args_[0]); },
        .json = JsonAuthHeader,
        .table = nullptr,
        .fields = FieldsHeader,
        .protobuf = ProtobufAuthHeader};
    return printers.Print(env, *header);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"role"}, .summary = "Role related commands", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "add"}, .summary = "Adds a new role", .make = [] {
       return std::make_unique<RoleAddCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
