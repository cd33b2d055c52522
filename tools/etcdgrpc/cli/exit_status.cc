#include "cli/exit_status.h"

#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {
constexpr char kExitCodePayload[] = "etcdgrpc.cli/exit-code";
constexpr char kUsagePayload[] = "etcdgrpc.cli/usage";

std::optional<int> AttachedExitCode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kExitCodePayload);
  int code = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &code)) return std::nullopt;
  return code;
}
}  // namespace

absl::Status CliError(ExitCode code, const std::string& message) {
  // The absl code only matters to callers that inspect it; the exit code rides
  // in the payload.
  absl::Status status(
      code == kExitError ? absl::StatusCode::kUnknown : absl::StatusCode::kInvalidArgument,
      message);
  status.SetPayload(kExitCodePayload, absl::Cord(std::to_string(static_cast<int>(code))));
  return status;
}

absl::Status UsageError(const std::string& message) {
  absl::Status status = CliError(kExitError, message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

int ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return kExitSuccess;
  return AttachedExitCode(status).value_or(kExitError);
}

bool WantsUsage(const absl::Status& status) { return status.GetPayload(kUsagePayload).has_value(); }

bool IsCliError(const absl::Status& status) { return AttachedExitCode(status).has_value(); }

std::string ErrorText(const absl::Status& status) {
  if (IsCliError(status)) return std::string(status.message());
  std::string message = ServerMessage(status);
  // gRPC's wording for an expired deadline; etcdctl reports Go's.
  if (absl::IsDeadlineExceeded(status) && message == "Deadline Exceeded") {
    return "context deadline exceeded";
  }
  return message;
}

}  // namespace etcdgrpc::cli
