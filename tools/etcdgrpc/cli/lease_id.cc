#include "cli/lease_id.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {

std::string LeaseIdHex(int64_t id) {
  if (id >= 0) return absl::StrFormat("%016x", static_cast<uint64_t>(id));
  // The magnitude as unsigned: also right for INT64_MIN.
  const uint64_t magnitude = uint64_t{0} - static_cast<uint64_t>(id);
  return absl::StrFormat("-%015x", magnitude);
}

absl::StatusOr<int64_t> ParseLeaseIdArg(std::string_view arg) {
  absl::StatusOr<int64_t> id = GoParseInt(arg, 16);
  if (!id.ok()) {
    return CliError(kExitBadArgs, absl::StrCat("bad lease ID arg (", id.status().message(),
                                               "), expecting ID in Hex"));
  }
  return id;
}

}  // namespace etcdgrpc::cli
