// `role revoke-permission <role> <key> [endkey] [--prefix] [--from-key]`:
// revokes a role's permission on exactly that key or range.
#include <memory>
#include <string>
#include <vector>

#include "cli/auth_names_command.h"
#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/exit_status.h"
#include "cli/perm_range.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class RoleRevokePermissionCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<role name> <key> [endkey]")->type_name("");
    app.add_flag("--prefix", prefix_, "revoke a prefix permission");
    app.add_flag("--from-key", from_key_,
                 "revoke a permission of keys that are greater than or equal to the given key "
                 "using byte compare");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() < 2) {
      return CliError(kExitBadArgs,
                      "role revoke-permission command requires role name and key [endkey] as its "
                      "argument");
    }
    absl::StatusOr<PermKeys> keys =
        PermRange(std::vector<std::string>(args_.begin() + 1, args_.end()), prefix_, from_key_);
    if (!keys.ok()) return keys.status();
    const std::string& role = args_[0];
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        role.empty() ? EmptyRoleNotFound()
                     : (*client)->auth().RoleRevokePermission(
                           role, KeyRange::Between(keys->key, keys->range_end));
    if (!header.ok()) return header.status();
    // The key as typed (etcdctl prints its argument, not the "\0" sent for "").
    return PrintAuthHeader(env, *header,
                           SimpleRoleRevokePermission(role, args_[1], keys->range_end));
  }

 private:
  std::vector<std::string> args_;
  bool prefix_ = false;
  bool from_key_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "revoke-permission"}, .summary = "Revokes a key from a role", .make = [] {
       return std::make_unique<RoleRevokePermissionCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
