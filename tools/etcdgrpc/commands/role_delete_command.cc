// `role delete <role>`: deletes a role (users lose it).
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
    {.path = {"role", "delete"}, .summary = "Deletes a role", .make = [] {
       return MakeAuthNamesCommand(
           {.usage = "<role name>",
            .names = 1,
            .bad_args = "role delete command requires role name as its argument",
            .call =
                [](Client& client, const Names& names) {
                  return names[0].empty() ? EmptyRoleNotFound()
                                          : client.auth().RoleDelete(names[0]);
                },
            .simple = [](const Names& names) { return SimpleRoleDelete(names[0]); }});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
