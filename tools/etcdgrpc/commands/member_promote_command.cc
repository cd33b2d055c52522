// `member promote <memberID>`: makes a learner a voting member.
#include "cli/command.h"
#include "cli/member_id_command.h"

namespace etcdgrpc::cli {
namespace {

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "promote"},
     .summary = "Promotes a non-voting member in the cluster",
     .make = [] {
       return MakeMemberIdCommand(
           {.call = [](Client& client, uint64_t id) { return client.cluster().MemberPromote(id); },
            .verb = "promoted in"});
     }});

}  // namespace
}  // namespace etcdgrpc::cli
