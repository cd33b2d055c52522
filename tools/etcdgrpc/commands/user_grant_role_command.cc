// `user grant-role <user> <role>`: grants a role to a user.
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
    {.path = {"user", "grant-role"}, .summary = "Grants a role to a user", .make = [] {
       return MakeAuthNamesCommand(
           {.usage = "<user name> <role name>",
            .names = 2,
            .bad_args = "user grant command requires user name and role name as its argument",
            .call =
                [](Client& client, const Names& names) {
                  return names[0].empty() || names[1].empty()
                             ? EmptyRoleOfUser(client, names[0], /*grant=*/true)
                             : client.auth().UserGrantRole(names[0], names[1]);
                },
            .simple = [](const Names& names) { return SimpleUserGrantRole(names[0], names[1]); }});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
