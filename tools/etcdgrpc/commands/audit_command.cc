// `audit WIRE_LOG`: reads a JSON-lines wire log (--wire-log-format=json or a .jsonl file)
// and reports its traffic and any broken wire rule (cli/wire_audit.h, docs/wire-audit.md).
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/global_flags.h"
#include "cli/wire_audit.h"

namespace etcdgrpc::cli {
namespace {

class AuditCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_)->group("");
    app.add_option("--renew-fraction", options_.renew_fraction,
                   "the client's KeepAliveOptions::renew_fraction: a lease is due TTL x this "
                   "after its last answer")
        ->capture_default_str();
    app.add_option("--late-slack", late_slack_,
                   "a renewal sent more than this after it was due is late")
        ->type_name("DURATION")
        ->capture_default_str();
    app.footer(
        "Exit codes: 0 clean; 1 a wire rule broken (renewed twice in an interval or late, "
        "a revision delivered twice, out of order, or a gap after a re-create); 3 only "
        "unreadable lines (truncated, garbage, another format version, unknown methods; the "
        "rest was audited); 6 the file cannot be read.");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "audit requires exactly one argument");
    absl::StatusOr<absl::Duration> late = ParseDurationFlag("late-slack", late_slack_);
    if (!late.ok()) return late.status();
    options_.late_slack = *late;
    absl::StatusOr<WireAuditReport> report = AuditWireLogFile(args_[0], options_);
    if (!report.ok()) return CliError(kExitIO, std::string(report.status().message()));
    switch (env.format()) {
      case OutputFormat::kJson:
        env.Print(FormatWireAuditJson(*report));
        break;
      case OutputFormat::kSimple:
        env.Print(FormatWireAuditText(*report));
        break;
      default:
        return FormatNotSupported(env.format());
    }
    const int code = WireAuditExitCode(*report);
    // The report says what is wrong; the exit code alone tells scripts.
    if (code != 0) return CliError(static_cast<ExitCode>(code), "");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> args_;
  WireAuditOptions options_;
  std::string late_slack_ = "1s";
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"audit"},
     .summary = "Audits a JSON-lines wire log: traffic, watch revisions, lease renewals, retries",
     .make = [] { return std::make_unique<AuditCommand>(); },
     .uses_client = false});

}  // namespace
}  // namespace etcdgrpc::cli
