#include "cli/lease_id.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {

absl::StatusOr<int64_t> ParseLeaseIdArg(std::string_view arg) {
  absl::StatusOr<int64_t> id = GoParseInt(arg, 16);
  if (!id.ok()) {
    return CliError(kExitBadArgs, absl::StrCat("bad lease ID arg (", id.status().message(),
                                               "), expecting ID in Hex"));
  }
  return id;
}

}  // namespace etcdgrpc::cli
