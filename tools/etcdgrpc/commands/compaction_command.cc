// `compaction <revision>`: compacts the event history up to a revision.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {
namespace {

class CompactionCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("revision", args_, "<revision>")->type_name("");
    app.add_flag("--physical", physical_,
                 "'true' to wait for compaction to physically remove all old revisions");
  }

  // Prints the same line whatever --write-out says, like etcdctl.
  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "compaction command needs 1 argument");
    absl::StatusOr<int64_t> revision = GoParseInt(args_[0], 10);
    if (!revision.ok()) return CliError(kExitError, std::string(revision.status().message()));
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        (*client)->Compact(*revision, CompactOptions{.physical = physical_});
    if (!header.ok()) return header.status();
    env.Print(absl::StrCat("compacted revision ", *revision, "\n"));
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> args_;
  bool physical_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"compaction"}, .summary = "Compacts the event history in etcd", .make = [] {
       return std::make_unique<CompactionCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
