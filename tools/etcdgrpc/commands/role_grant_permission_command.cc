// `role grant-permission <role> <read|write|readwrite> <key> [endkey]
// [--prefix] [--from-key]`: grants a role access to a key or range.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/auth_names_command.h"
#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/exit_status.h"
#include "cli/perm_range.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

// clientv3.StrToPermissionType: authpb's names, in any case.
absl::StatusOr<PermissionType> ParsePermissionType(const std::string& text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  if (upper == "READ") return PermissionType::kRead;
  if (upper == "WRITE") return PermissionType::kWrite;
  if (upper == "READWRITE") return PermissionType::kReadWrite;
  return CliError(kExitBadArgs, absl::StrCat("invalid permission type: ", text));
}

class RoleGrantPermissionCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<role name> <permission type> <key> [endkey]")->type_name("");
    app.add_flag("--prefix", prefix_, "grant a prefix permission");
    app.add_flag("--from-key", from_key_,
                 "grant a permission of keys that are greater than or equal to the given key "
                 "using byte compare");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() < 3) {
      return CliError(kExitBadArgs,
                      "role grant command requires role name, permission type, and key [endkey] "
                      "as its argument");
    }
    absl::StatusOr<PermissionType> type = ParsePermissionType(args_[1]);
    if (!type.ok()) return type.status();
    absl::StatusOr<PermKeys> keys =
        PermRange(std::vector<std::string>(args_.begin() + 2, args_.end()), prefix_, from_key_);
    if (!keys.ok()) return keys.status();
    const std::string& role = args_[0];
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        role.empty()
            ? EmptyRoleNotFound()
            : (*client)->auth().RoleGrantPermission(
                  role, Permission{.type = *type,
                                   .range = KeyRange::Between(keys->key, keys->range_end)});
    if (!header.ok()) return header.status();
    return PrintAuthHeader(env, *header, SimpleRoleGrantPermission(role));
  }

 private:
  std::vector<std::string> args_;
  bool prefix_ = false;
  bool from_key_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "grant-permission"}, .summary = "Grants a key to a role", .make = [] {
       return std::make_unique<RoleGrantPermissionCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
