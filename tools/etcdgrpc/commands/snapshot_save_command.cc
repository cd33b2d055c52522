// `snapshot save <filename>`: streams one member's backend into a file
// ("<filename>.part", fsynced, its sha256 checked, renamed), as etcdctl does.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {
namespace {

class SnapshotSaveCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "snapshot save expects one argument");
    const std::vector<std::string>& endpoints = env.flags().endpoints;
    if (endpoints.size() != 1) {
      return CliError(
          kExitInterrupted,
          absl::StrCat("snapshot must be requested to one selected node, not multiple [",
                       absl::StrJoin(endpoints, " "), "]"));
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    SnapshotOptions options;
    // Like etcdctl: no deadline unless --command-timeout (or its variable) was given.
    if (env.flags().changed.contains("command-timeout"))
      options.timeout = (*client)->options().request_timeout;
    absl::StatusOr<SnapshotResult> saved = (*client)->maintenance().Snapshot(args_[0], options);
    if (!saved.ok()) return CliError(kExitInterrupted, ErrorText(saved.status()));
    env.Print(absl::StrCat("Snapshot saved at ", args_[0], "\n"));
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"snapshot"}, .summary = "Manages etcd node snapshots", .make = nullptr});
[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"snapshot", "save"},
     .summary = "Stores an etcd node backend snapshot to a given file",
     .make = [] { return std::make_unique<SnapshotSaveCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
