#include "cli/perm_range.h"

#include "cli/exit_status.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::cli {
namespace {
const std::string kNul(1, '\0');
constexpr char kExclusive[] = "--from-key and --prefix flags are mutually exclusive";
}  // namespace

absl::StatusOr<PermKeys> PermRange(const std::vector<std::string>& args, bool prefix,
                                   bool from_key) {
  const std::string& key = args.at(0);
  if (key.empty()) {
    if (prefix && from_key) return CliError(kExitBadArgs, kExclusive);
    // etcd's permission ranges are intervals of byte strings: the empty key is
    // "\0", and with either flag the whole key space; an endkey is ignored.
    return PermKeys{.key = kNul, .range_end = prefix || from_key ? kNul : ""};
  }
  if (args.size() == 1) {
    if (prefix) {
      if (from_key) return CliError(kExitBadArgs, kExclusive);
      return PermKeys{.key = key, .range_end = PrefixRangeEnd(key)};
    }
    return PermKeys{.key = key, .range_end = from_key ? kNul : ""};
  }
  if (prefix) return CliError(kExitBadArgs, "unexpected endkey argument with --prefix flag");
  if (from_key) return CliError(kExitBadArgs, "unexpected endkey argument with --from-key flag");
  return PermKeys{.key = key, .range_end = args[1]};
}

}  // namespace etcdgrpc::cli
