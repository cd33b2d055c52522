// `snapshot restore`: not implemented by etcdgrpc (it writes a new member's
// WAL, raft snapshot and backend); refused with a message naming the tool that
// does it, rather than left out, so that scripts see a failure (exit code 1).
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {
namespace {

class SnapshotRestoreCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_)->group("");
    // etcdctl's flags, accepted so that the refusal is about the command.
    const char* const flags[] = {"--data-dir",
                                 "--wal-dir",
                                 "--initial-cluster",
                                 "--initial-cluster-token",
                                 "--initial-advertise-peer-urls",
                                 "--name"};
    for (size_t i = 0; i < std::size(flags); ++i) {
      app.add_option(flags[i], ignored_flags_[i])->group("");
    }
    app.add_flag("--skip-hash-check", skip_hash_check_)->group("");
  }

  absl::Status Run(CommandEnv&) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "snapshot restore requires exactly one argument");
    }
    return CliError(
        kExitError,
        "snapshot restore is not implemented by etcdgrpc; use etcdctl snapshot restore");
  }

 private:
  std::vector<std::string> args_;
  std::string ignored_flags_[6];
  bool skip_hash_check_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"snapshot", "restore"},
     .summary = "Restores an etcd member snapshot to an etcd directory (not implemented: "
                "use etcdctl)",
     .make = [] { return std::make_unique<SnapshotRestoreCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
