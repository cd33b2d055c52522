// `snapshot status <filename>`: hash, revision, total keys and size of a
// snapshot file, read with the CLI's own bbolt reader (cli/bolt_db.h).
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/simple_format.h"
#include "cli/snapshot_file_status.h"
#include "cli/table_format.h"

namespace etcdgrpc::cli {
namespace {

class SnapshotStatusCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "snapshot status requires exactly one argument");
    }
    absl::StatusOr<SnapshotFileStatus> status = ReadSnapshotFileStatus(args_[0]);
    if (!status.ok()) return CliError(kExitError, std::string(status.status().message()));
    switch (env.format()) {
      case OutputFormat::kSimple:
        env.Print(SimpleSnapshotStatus(*status));
        return absl::OkStatus();
      case OutputFormat::kJson:
        env.Print(JsonSnapshotStatus(*status));
        return absl::OkStatus();
      case OutputFormat::kTable:
        env.Print(TableSnapshotStatus(*status));
        return absl::OkStatus();
      case OutputFormat::kFields:
        env.Print(FieldsSnapshotStatus(*status));
        return absl::OkStatus();
      default:  // protobuf: etcdctl has no printer for it either.
        return FormatNotSupported(env.format());
    }
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"snapshot", "status"},
     .summary = "Gets backend snapshot status of a given file",
     .make = [] { return std::make_unique<SnapshotStatusCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
