// `member remove <memberID>`: removes a member from the cluster.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/member_args.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class MemberRemoveCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<uint64_t> id = MemberIdArg(args_);
    if (!id.ok()) return id.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberRemoveResult> removed = (*client)->cluster().MemberRemove(*id);
    if (absl::IsInvalidArgument(removed.status())) return RefusedBeforeSending(removed.status());
    if (!removed.ok()) return removed.status();
    // etcdctl has no fields printer for member remove: "fields not supported
    // as output format" once the change is made.
    const Printers<MemberListResult> printers{.simple =
                                                  [&](const MemberListResult& r) {
                                                    return SimpleMemberChange(*id, r.header,
                                                                              "removed from");
                                                  },
                                              .json = JsonMemberChange,
                                              .table = nullptr,
                                              .fields = nullptr,
                                              .protobuf = ProtobufMemberList};
    return printers.Print(env, *removed);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "remove"}, .summary = "Removes a member from the cluster", .make = [] {
       return std::make_unique<MemberRemoveCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
