// Lease ids on etcdctl's command line: hexadecimal, parsed with Go's
// strconv.ParseInt(arg, 16, 64). Printed with internal::FormatLeaseId
// (common/lease_id.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

// A lease id argument ("694d77aa9e38260f", also "+1a" or "-1" as Go accepts
// them). Failure: etcdctl's "bad lease ID arg (...), expecting ID in Hex",
// exit code 128.
[[nodiscard]] absl::StatusOr<int64_t> ParseLeaseIdArg(std::string_view arg);

}  // namespace etcdgrpc::cli
