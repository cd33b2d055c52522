// Lease ids on etcdctl's command line and in its output: hexadecimal, parsed
// with Go's strconv.ParseInt(arg, 16, 64) and printed with fmt's "%016x".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

// Go's fmt.Sprintf("%016x", id) of an int64: 16 hex digits, zero-padded; a
// negative id is "-" followed by its magnitude padded to 15 digits.
[[nodiscard]] std::string LeaseIdHex(int64_t id);

// A lease id argument ("694d77aa9e38260f", also "+1a" or "-1" as Go accepts
// them). Failure: etcdctl's "bad lease ID arg (...), expecting ID in Hex",
// exit code 128.
[[nodiscard]] absl::StatusOr<int64_t> ParseLeaseIdArg(std::string_view arg);

}  // namespace etcdgrpc::cli
