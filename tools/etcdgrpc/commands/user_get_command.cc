// `user get <name> [--detail]`: a user's roles, or with --detail each role's
// permissions.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

class UserGetCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("name", args_, "<user name>")->type_name("");
    app.add_flag("--detail", detail_, "Show permissions of roles granted to the user");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "user get command requires user name as its argument");
    }
    const std::string& name = args_[0];
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    Auth auth = (*client)->auth();
    absl::StatusOr<UserGetResult> user = name.empty() ? EmptyUserNotFound() : auth.UserGet(name);
    if (!user.ok()) return user.status();
    if (!detail_) return PrintUser(env, name, *user);
    // Like etcdctl: this line whatever the format, then each role as `role get`
    // prints it.
    env.Print(absl::StrCat("User: ", name, "\n"));
    for (const std::string& role : user->roles) {
      env.Print("\n");
      absl::StatusOr<RoleGetResult> permissions = auth.RoleGet(role);
      if (!permissions.ok()) return permissions.status();
      if (absl::Status s = PrintRole(env, role, *permissions); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  // etcdctl has no fields printer for user get (without --detail): "fields
  // not supported as output format", after the request.
  static absl::Status PrintUser(CommandEnv& env, const std::string& name,
                                const UserGetResult& user) {
    const Printers<UserGetResult> printers{
        .simple = [&](const UserGetResult& r) { return SimpleUserGet(name, r); },
        .json = JsonUserGet,
        .table = nullptr,
        .fields = nullptr,
        .protobuf = ProtobufUserGet};
    return printers.Print(env, user);
  }

  static absl::Status PrintRole(CommandEnv& env, const std::string& role,
                                const RoleGetResult& result) {
    const Printers<RoleGetResult> printers{
        .simple = [&](const RoleGetResult& r) { return SimpleRoleGet(role, r); },
        .json = JsonRoleGet,
        .table = nullptr,
        .fields = FieldsRoleGet,
        .protobuf = ProtobufRoleGet};
    return printers.Print(env, result);
  }

  std::vector<std::string> args_;
  bool detail_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "get"}, .summary = "Gets detailed information of a user", .make = [] {
       return std::make_unique<UserGetCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
