// `member list`: the cluster's members, as etcdctl prints them.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/table_format.h"

namespace etcdgrpc::cli {
namespace {

// etcdctl's makeMemberListTable rows.
std::vector<std::vector<std::string>> Rows(const MemberListResult& result) {
  std::vector<std::vector<std::string>> rows;
  for (const Member& member : result.members) {
    rows.push_back({absl::StrCat(absl::Hex(member.id)),
                    member.name.empty() ? "unstarted" : "started", member.name,
                    absl::StrJoin(member.peer_urls, ","), absl::StrJoin(member.client_urls, ","),
                    member.is_learner ? "true" : "false"});
  }
  return rows;
}

class MemberListCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", ignored_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberListResult> members = (*client)->MemberList();
    if (!members.ok()) return members.status();
    const Printers<MemberListResult> printers{
        .simple =
            [](const MemberListResult& r) {
              std::string out;
              for (const auto& row : Rows(r)) absl::StrAppend(&out, absl::StrJoin(row, ", "), "\n");
              return out;
            },
        .json = JsonMemberList,
        .table =
            [](const MemberListResult& r) {
              return RenderTable(
                  {"ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"}, Rows(r));
            },
        .fields = FieldsMemberList,
        .protobuf = ProtobufMemberList};
    return printers.Print(env, *members);
  }

 private:
  std::vector<std::string> ignored_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"member"}, .summary = "Membership related commands", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "list"}, .summary = "Lists all members in the cluster", .make = [] {
       return std::make_unique<MemberListCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
