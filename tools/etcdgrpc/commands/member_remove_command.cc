// `member remove <memberID>`: removes a member from the cluster.
#include "cli/command.h"
#include "cli/member_id_command.h"

namespace etcdgrpc::cli {
namespace {

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "remove"}, .summary = "Removes a member from the cluster", .make = [] {
       return MakeMemberIdCommand(
           {.call = [](Client& client, uint64_t id) { return client.cluster().MemberRemove(id); },
            .verb = "removed from"});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
