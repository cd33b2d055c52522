// `member promote <memberID>`: makes a learner a voting member.
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

class MemberPromoteCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<uint64_t> id = MemberIdArg(args_);
    if (!id.ok()) return id.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberPromoteResult> promoted = (*client)->cluster().MemberPromote(*id);
    if (absl::IsInvalidArgument(promoted.status())) return RefusedBeforeSending(promoted.status());
    if (!promoted.ok()) return promoted.status();
    // etcdctl 3.4.23's json, fields and protobuf printers have no promote
    // method and panic (a nil pointer); we do what they do for member remove
    // and update: json and protobuf print etcd's answer, fields is refused.
    const Printers<MemberListResult> printers{.simple =
                                                  [&](const MemberListResult& r) {
                                                    return SimpleMemberChange(*id, r.header,
                                                                              "promoted in");
                                                  },
                                              .json = JsonMemberChange,
                                              .table = nullptr,
                                              .fields = nullptr,
                                              .protobuf = ProtobufMemberList};
    return printers.Print(env, *promoted);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "promote"},
     .summary = "Promotes a non-voting member in the cluster",
     .make = [] { return std::make_unique<MemberPromoteCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
