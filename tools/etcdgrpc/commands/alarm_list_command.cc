// `alarm list` and `alarm disarm`: the cluster's alarms (NOSPACE, CORRUPT),
// and disarming all of them, as etcdctl prints them.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

// etcd 3.4 answers Alarm without a header (and clientv3 builds alarm
// disarm's answer without one): etcdctl's protobuf printer then marshals none,
// and its fields printer dereferences the nil header and panics (Go's exit
// code 2, nothing on stdout). An all-zero header is such a missing one (a real
// header has a cluster id).
absl::Status PrintAlarms(CommandEnv& env, const AlarmResult& result) {
  const bool has_header = result.header != ResponseHeader{};
  if (env.format() == OutputFormat::kFields && !has_header) {
    env.PrintError("panic: runtime error: invalid memory address or nil pointer dereference\n");
    return CliError(static_cast<ExitCode>(2), "");
  }
  const Printers<AlarmResult> printers{
      .simple = SimpleAlarms,
      .json = JsonAlarms,
      .table = nullptr,
      .fields = FieldsAlarms,
      .protobuf = [&](const AlarmResult& r) { return ProtobufAlarms(r, has_header); }};
  return printers.Print(env, result);
}

class AlarmCommand final : public Command {
 public:
  explicit AlarmCommand(bool disarm) : disarm_(disarm) {}

  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    if (!args_.empty()) {
      return CliError(kExitBadArgs, disarm_ ? "alarm disarm command accepts no arguments"
                                            : "alarm list command accepts no arguments");
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    Maintenance maintenance = (*client)->maintenance();
    absl::StatusOr<AlarmResult> alarms =
        disarm_ ? maintenance.AlarmDisarmAll() : maintenance.AlarmList();
    if (!alarms.ok()) return alarms.status();
    return PrintAlarms(env, *alarms);
  }

 private:
  const bool disarm_;
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"alarm"}, .summary = "Alarm related commands", .make = nullptr});
[[maybe_unused]] const bool kListRegistered = CommandRegistry::Global().Add(
    {.path = {"alarm", "list"}, .summary = "Lists all alarms", .make = [] {
       return std::make_unique<AlarmCommand>(/*disarm=*/false);
     }});
[[maybe_unused]] const bool kDisarmRegistered = CommandRegistry::Global().Add(
    {.path = {"alarm", "disarm"}, .summary = "Disarms all alarms", .make = [] {
       return std::make_unique<AlarmCommand>(/*disarm=*/true);
     }});

}  // namespace
}  // namespace etcdgrpc::cli
