// etcdctl's transaction syntax, read from text: compares such as
// `mod("key1") > "0"`, a blank line, the success operations (`put k v`,
// `get k --prefix`, `del k`), a blank line, the failure operations, a blank line.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/txn.h"

namespace etcdgrpc::cli {

// Splits an operation line into arguments like etcdctl's argify: white space
// separates, "double quotes" take Go escapes, 'single quotes' take the text as
// is. (etcdctl 3.4 cuts single-quoted text short; this follows the fix in 3.5.)
[[nodiscard]] absl::StatusOr<std::vector<std::string>> Argify(std::string_view line);

// One compare line: target("key") op "operand", targets ver/version, c/create,
// m/mod, val/value, lease (hexadecimal); ops =, !=, <, >.
[[nodiscard]] absl::StatusOr<Compare> ParseCompare(std::string_view line);

// One operation line: a `get`, `put` or `del` command line with its flags.
[[nodiscard]] absl::StatusOr<Op> ParseTxnOp(std::string_view line);

// Reads a whole transaction. Each of the three sections must end with a blank
// line, as etcdctl requires (input ending early fails with "EOF"). `prompt`,
// when set, is called before each section with etcdctl's interactive prompt.
// Errors carry etcdctl's exit codes (exit_status.h).
[[nodiscard]] absl::StatusOr<TxnRequest> ReadTxn(
    std::istream& in, const std::function<void(std::string_view)>& prompt = nullptr);

}  // namespace etcdgrpc::cli
