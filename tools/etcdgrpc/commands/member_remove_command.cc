// `member remove <memberID>`: removes a member from the cluster.
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
    switch (env.format()) {
      case OutputFormat::kSimple:
        env.Print(SimpleMemberChange(*id, removed->header, "removed from"));
        return absl::OkStatus();
      case OutputFormat::kJson:
        env.Print(JsonMemberChange(*removed));
        return absl::OkStatus();
      default:
        return FormatNotSupported(env.format());
    }
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
