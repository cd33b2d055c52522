// `member promote <memberID>`: makes a learner a voting member.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/json_format.h"
#include "cli/member_args.h"
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
    switch (env.format()) {
      case OutputFormat::kSimple:
        env.Print(SimpleMemberChange(*id, promoted->header, "promoted in"));
        return absl::OkStatus();
      case OutputFormat::kJson:
        // etcdctl 3.4.23's json printer has no promote method and panics; we
        // print etcd's answer like the other member commands.
        env.Print(JsonMemberChange(*promoted));
        return absl::OkStatus();
      default:
        return FormatNotSupported(env.format());
    }
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
