// etcdctl's ETCDCTL_* environment variables: pkg/flags.SetPflagsFromEnv on the
// global flags (a variable sets a flag not given on the command line; one
// shadowed by its flag is fatal; unknown ETCDCTL_ variables are warned about),
// with capnslog's log lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "cli/global_flags.h"

namespace etcdgrpc::cli {

// pkg/flags.FlagToEnv("ETCDCTL", name): "dial-timeout" -> "ETCDCTL_DIAL_TIMEOUT".
[[nodiscard]] std::string FlagToEnv(std::string_view name);

// What etcdctl logs while reading the environment, in order: warnings ('W')
// and at most one fatal line ('C', after which etcdctl exits with 1).
struct EnvNotice {
  char severity;
  std::string text;
};

struct EnvOutcome {
  std::vector<EnvNotice> notices;
  bool fatal = false;
};

// Applies `environ` ("NAME=value" entries, in the process's order) to the
// global flags not in flags->changed, as etcdctl does before it connects.
// `extra_names` are flags the command accepts from the environment without
// using them here (watch's "watch-key" and "watch-range-end"). A value pflag
// would refuse is skipped silently, as etcdctl ignores that error.
// ETCDCTL_API is not looked at: etcdctl's main unsets it.
[[nodiscard]] EnvOutcome ApplyEnvironment(const std::vector<std::string>& environ,
                                          const std::vector<std::string>& extra_names,
                                          GlobalFlags* flags);

// The process's environment, in order.
[[nodiscard]] std::vector<std::string> ProcessEnvironment();

// capnslog's line as etcdctl prints it on stderr:
// "2006-01-02 15:04:05.000000 W | pkg/flags: <text>\n" (local time).
[[nodiscard]] std::string CapnslogLine(absl::Time now, const EnvNotice& notice);

}  // namespace etcdgrpc::cli
