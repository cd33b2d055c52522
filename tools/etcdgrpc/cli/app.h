// The tool's entry point: builds the command line from the registered
// commands, parses it like etcdctl (usage and exit codes included) and runs
// the chosen command.
#pragma once

#include <cstdio>
#include <istream>

namespace etcdgrpc::cli {

// Returns the process exit code. Never throws.
[[nodiscard]] int RunCli(int argc, const char* const* argv, std::istream& in, std::FILE* out,
                         std::FILE* err);

}  // namespace etcdgrpc::cli
