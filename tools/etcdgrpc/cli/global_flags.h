// The flags every command takes (etcdctl's global flags): endpoints, time-outs,
// output format, TLS files, and etcdgrpc's --wire-log; and the client options they mean.
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client_options.h"

namespace etcdgrpc::cli {

enum class OutputFormat { kSimple, kJson, kTable };

// As given on the command line; durations stay text until validated so that
// bad values get etcdctl's messages.
struct GlobalFlags {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  // Whether --command-timeout was given: snapshot save has no deadline otherwise.
  bool command_timeout_set = false;
  std::string write_out = "simple";
  std::string wire_log;
  bool hex = false;
  // TLS, like etcdctl's --cacert/--cert/--key: any of them makes every endpoint TLS.
  std::string cacert;
  std::string cert;
  std::string key;
  // etcdctl's --user "name[:password]" and --password (which takes the whole
  // --user as the name). A name without password asks for it on the terminal.
  std::string user;
  std::string password;
};

void AddGlobalFlags(CLI::App& app, GlobalFlags* flags);

// A Go duration ("2s", "500ms", "1m30s"); errors read like pflag's.
[[nodiscard]] absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& name,
                                                               const std::string& value);

// "simple", "json" or "table"; anything else is etcdctl's "unsupported output
// format" (exit code 4; etcdctl's fields and protobuf formats are not offered).
[[nodiscard]] absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& value);

// Checks everything that can be checked before a command runs.
[[nodiscard]] absl::Status ValidateGlobalFlags(const GlobalFlags& flags);

// The client options the flags ask for; opens the wire log file.
[[nodiscard]] absl::StatusOr<ClientOptions> MakeClientOptions(const GlobalFlags& flags);

}  // namespace etcdgrpc::cli
