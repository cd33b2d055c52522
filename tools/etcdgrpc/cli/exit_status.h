// Command failures as absl::Status carrying etcdctl's exit code, and the one
// place that turns a failure into the "Error: <message>" text etcdctl prints.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace etcdgrpc::cli {

// etcdctl's exit codes (pkg/cobrautl), so scripts can tell failures apart the
// same way for both tools.
enum ExitCode : int {
  kExitSuccess = 0,
  kExitError = 1,
  kExitBadConnection = 2,
  kExitInvalidInput = 3,
  kExitBadFeature = 4,
  kExitInterrupted = 5,
  kExitIO = 6,
  kExitBadArgs = 128,
};

// A failure detected by the tool itself (not by etcd), with the exit code
// etcdctl uses for it.
[[nodiscard]] absl::Status CliError(ExitCode code, const std::string& message);
// A bad flag value: etcdctl prints the command's usage and exits with 1.
[[nodiscard]] absl::Status UsageError(const std::string& message);

// The exit code for a failed status: the one attached by CliError/UsageError,
// else kExitError (what etcdctl uses for every failed request).
[[nodiscard]] int ExitCodeOf(const absl::Status& status);
[[nodiscard]] bool WantsUsage(const absl::Status& status);
[[nodiscard]] bool IsCliError(const absl::Status& status);

// The text after "Error: ": the tool's own message, or etcd's message without
// the endpoint/method suffix the client library adds (etcdctl prints etcd's
// bare message, e.g. "etcdserver: mvcc: required revision is a future revision").
[[nodiscard]] std::string ErrorText(const absl::Status& status);

}  // namespace etcdgrpc::cli
