// `move-leader <transferee-member-id>`: hands the leadership to another member;
// the request goes to whichever of --endpoints leads, as etcdctl sends it.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

class MoveLeaderCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "move-leader command needs 1 argument");
    absl::StatusOr<uint64_t> target = GoParseHexUint(args_[0]);
    if (!target.ok()) return CliError(kExitBadArgs, std::string(target.status().message()));
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect(/*wait=*/false);
    if (!client.ok()) return client.status();
    absl::StatusOr<MoveLeaderResult> moved = (*client)->maintenance().MoveLeader(*target);
    if (absl::IsFailedPrecondition(moved.status()) &&
        absl::StartsWith(moved.status().message(), "no leader endpoint given at")) {
      // Named as given on the command line, as etcdctl prints them.
      return CliError(kExitBadArgs, absl::StrCat("no leader endpoint given at [",
                                                 absl::StrJoin(env.flags().endpoints, " "), "]"));
    }
    if (!moved.ok()) return moved.status();
    // etcdctl has no fields printer for move-leader: "fields not supported as
    // output format" once the leader moved.
    const Printers<MoveLeaderResult> printers{
        .simple = [](const MoveLeaderResult& r) { return SimpleMoveLeader(r.from, r.to); },
        .json = JsonMoveLeader,
        .table = nullptr,
        .fields = nullptr,
        .protobuf = ProtobufMoveLeader};
    return printers.Print(env, *moved);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"move-leader"},
     .summary = "Transfers leadership to another etcd cluster member.",
     .make = [] { return std::make_unique<MoveLeaderCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
