// The flags every command takes (etcdctl's global flags): endpoints, time-outs,
// keepalive, output format, TLS, authentication, discovery, and etcdgrpc's
// --wire-log; and the client options they mean.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client_options.h"

namespace etcdgrpc::cli {

// etcdctl's -w values. fields: `"Name" : value` lines; protobuf: the marshaled
// etcdserverpb response.
enum class OutputFormat { kSimple, kJson, kTable, kFields, kProtobuf };

// As given on the command line; durations stay text until validated so that
// bad values get etcdctl's messages.
struct GlobalFlags {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  std::string keepalive_time = "2s";
  std::string keepalive_timeout = "6s";
  std::string write_out = "simple";
  std::string wire_log;
  // --wire-log-format: "text", "json", or "" (json when the file name ends in
  // ".jsonl", else text); docs/wire-audit.md.
  std::string wire_log_format;
  bool hex = false;
  // TLS, like etcdctl's --cacert/--cert/--key: any of them makes every endpoint TLS.
  std::string cacert;
  std::string cert;
  std::string key;
  // etcdctl's --user "name[:password]" and --password (which takes the whole
  // --user as the name). A name without password asks for it on the terminal.
  std::string user;
  std::string password;
  // etcdctl's --insecure-transport: false asks for TLS even without the files above.
  bool insecure_transport = true;
  // Accepts any server certificate (with a warning on stderr).
  bool insecure_skip_tls_verify = false;
  // DNS SRV discovery (-d/--discovery-srv, --discovery-srv-name,
  // --insecure-discovery): accepted as etcdctl does; a domain is refused when
  // a command connects (etcdgrpc does not query DNS).
  std::string discovery_srv;
  std::string discovery_srv_name;
  bool insecure_discovery = true;
  // etcdctl's --debug: accepted; etcdgrpc's --wire-log shows the traffic instead.
  bool debug = false;
  // The global flags given on the command line or taken from ETCDCTL_*
  // variables (pflag's "changed"), by name without dashes.
  std::set<std::string> changed;
};

void AddGlobalFlags(CLI::App& app, GlobalFlags* flags);

// A Go duration ("2s", "500ms", "1m30s"); errors read like pflag's.
[[nodiscard]] absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& name,
                                                               const std::string& value);

// "simple", "json", "table", "fields" or "protobuf"; anything else is
// etcdctl's "unsupported output format" (exit code 4).
[[nodiscard]] absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& value);

// Checks everything that can be checked before a command runs.
[[nodiscard]] absl::Status ValidateGlobalFlags(const GlobalFlags& flags);

// The wire log form --wire-log-format asks for (or the file's .jsonl suffix);
// INVALID_ARGUMENT-like CLI error for another value.
[[nodiscard]] absl::StatusOr<WireLogFormat> ParseWireLogFormat(const GlobalFlags& flags);

// The client options the flags ask for; opens the wire log file.
[[nodiscard]] absl::StatusOr<ClientOptions> MakeClientOptions(const GlobalFlags& flags);

// The names of the global flags (without dashes), sorted as pflag visits them.
[[nodiscard]] std::vector<std::string> GlobalFlagNames();

// Sets the global flag `name` from text as pflag's Set does (bools as Go's
// strconv.ParseBool, durations as Go's, endpoints comma-separated). False, and
// nothing changed, for a value pflag would refuse.
[[nodiscard]] bool SetGlobalFlag(GlobalFlags* flags, const std::string& name,
                                 const std::string& value);

}  // namespace etcdgrpc::cli
