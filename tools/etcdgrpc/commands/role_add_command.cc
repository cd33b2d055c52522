// `role add <role>`: adds a role.
#include <string>
#include <vector>

#include "cli/auth_names_command.h"
#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

using Names = std::vector<std::string>;

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"role"}, .summary = "Role related commands", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"role", "add"}, .summary = "Adds a new role", .make = [] {
       return MakeAuthNamesCommand(
           {.usage = "<role name>",
            .names = 1,
            .bad_args = "role add command requires role name as its argument",
            .call =
                [](Client& client, const Names& names) {
                  return names[0].empty() ? EmptyRoleNameOnAdd() : client.auth().RoleAdd(names[0]);
                },
            .simple = [](const Names& names) { return SimpleRoleAdd(names[0]); }});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
