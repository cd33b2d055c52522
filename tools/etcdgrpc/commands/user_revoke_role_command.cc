// `user revoke-role <user> <role>`: revokes a role from a user.
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

class UserRevokeRoleCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<user name> <role name>")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 2)
      return CliError(kExitBadArgs,
                      "user revoke-role requires user name and role name as its argument");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        args_[0].empty() || args_[1].empty() ? EmptyRoleOfUser(**client, args_[0], /*grant=*/false)
                                             : (*client)->auth().UserRevokeRole(args_[0], args_[1]);
    if (!header.ok()) return header.status();
    const Printers<ResponseHeader> printers{
        .simple = [&](const ResponseHeader&) { return SimpleUserRevokeRole(args_[0], args_[1]); },
        .json = JsonAuthHeader,
        .table = nullptr,
        .fields = FieldsHeader,
        .protobuf = ProtobufAuthHeader};
    return printers.Print(env, *header);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "revoke-role"}, .summary = "Revokes a role from a user", .make = [] {
       return std::make_unique<UserRevokeRoleCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
