// etcdctl's watch argument rules (watch_command.go parseWatchArgs): the keys
// from the arguments or ETCDCTL_WATCH_KEY/ETCDCTL_WATCH_RANGE_END, the command
// after "--" to run for each event, and the lines of interactive mode
// (`watch <key> [flags] [-- command]`), with etcdctl's messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::cli {

struct WatchArgs {
  // What getWatchChan gets: key, and range end when exactly two.
  std::vector<std::string> keys;
  // The command (and its arguments) after "--"; empty when none.
  std::vector<std::string> exec;
  // The flags of an interactive line (non-interactive ones come from the parser).
  bool prefix = false;
  int64_t rev = 0;
  bool prev_kv = false;
};

// Non-interactive: `raw` is the command line as given (etcdctl's os.Args, from
// which it drops everything up to the first "watch"), `positional` the
// arguments the parser left (the words after "--" included).
[[nodiscard]] absl::StatusOr<WatchArgs> ParseWatchArgs(const std::vector<std::string>& raw,
                                                       const std::vector<std::string>& positional,
                                                       const std::string& env_key,
                                                       const std::string& env_range);

// One interactive line split by Argify, starting with "watch": its flags
// (--prefix, --rev, --prev-kv, -i) parsed as pflag does, with its messages.
[[nodiscard]] absl::StatusOr<WatchArgs> ParseInteractiveWatch(const std::vector<std::string>& line,
                                                              const std::string& env_key,
                                                              const std::string& env_range);

// getWatchChan: the range to watch. Errors: "bad number of arguments" for no
// key, "`range_end` and `--prefix` are mutually exclusive". Extra keys beyond
// two are ignored, as etcdctl ignores them.
[[nodiscard]] absl::StatusOr<KeyRange> WatchRange(const std::vector<std::string>& keys,
                                                  bool prefix);

}  // namespace etcdgrpc::cli
