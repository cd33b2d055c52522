// `user revoke-role <user> <role>`: revokes a role from a user.
#include <string>
#include <vector>

#include "cli/auth_names_command.h"
#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

using Names = std::vector<std::string>;

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "revoke-role"}, .summary = "Revokes a role from a user", .make = [] {
       return MakeAuthNamesCommand(
           {.usage = "<user name> <role name>",
            .names = 2,
            .bad_args = "user revoke-role requires user name and role name as its argument",
            .call =
                [](Client& client, const Names& names) {
                  return names[0].empty() || names[1].empty()
                             ? EmptyRoleOfUser(client, names[0], /*grant=*/false)
                             : client.auth().UserRevokeRole(names[0], names[1]);
                },
            .simple = [](const Names& names) { return SimpleUserRevokeRole(names[0], names[1]); }});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
