// `user delete <name>`: deletes a user.
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
    {.path = {"user", "delete"}, .summary = "Deletes a user", .make = [] {
       return MakeAuthNamesCommand(
           {.usage = "<user name>",
            .names = 1,
            .bad_args = "user delete command requires user name as its argument",
            .call =
                [](Client& client, const Names& names) {
                  return names[0].empty() ? EmptyUserNotFound()
                                          : client.auth().UserDelete(names[0]);
                },
            .simple = [](const Names& names) { return SimpleUserDelete(names[0]); }});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
