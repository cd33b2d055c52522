// `role get <role>`: a role's read and write permissions.
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

class RoleGetCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<role name>")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "role get command requires role name as its argument");
    }
    const std::string& role = args_[0];
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<RoleGetResult> result =
        role.empty() ? EmptyRoleNotFound() : (*client)->auth().RoleGet(role);
    if (!result.ok()) return result.status();
    const Printers<RoleGetResult> printers{
        .simple = [&](const RoleGetResult& r) { return SimpleRoleGet(role, r); },
        .json = JsonRoleGet,
        .table = nullptr,
        .fields = FieldsRoleGet,
        .protobuf = ProtobufRoleGet};
    return printers.Print(env, *result);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "get"}, .summary = "Gets detailed information of a role", .make = [] {
       return std::make_unique<RoleGetCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
