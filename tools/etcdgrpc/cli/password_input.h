// Reading passwords from standard input the way etcdctl's user commands do:
// the interactive prompt twice with confirmation (speakeasy, echo off on a
// terminal) and --interactive=false's single word (Go's fmt.Scanf("%s")).
#pragma once

#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "cli/command.h"

namespace etcdgrpc::cli {

// "Password of <name>: " and "Type password of <name> again for confirmation: "
// on stdout, each answer one line of stdin (spaces around it trimmed), a
// newline printed after each. Failures carry etcdctl's words and exit code 128:
// "empty password", "given passwords are different".
[[nodiscard]] absl::StatusOr<std::string> AskNewPassword(CommandEnv& env, const std::string& name);

// One whitespace-separated word of `in`, as Go's fmt.Scanf("%s") reads it:
// empty when the input ends, or reaches a newline, before a word starts.
[[nodiscard]] std::string ScanWord(std::istream& in);

}  // namespace etcdgrpc::cli
