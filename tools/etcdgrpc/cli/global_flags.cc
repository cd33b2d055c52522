#include "cli/global_flags.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"
#include "etcdgrpc/wire_log.h"

namespace etcdgrpc::cli {

void AddGlobalFlags(CLI::App& app, GlobalFlags* flags) {
  app.add_option("--endpoints", flags->endpoints, "gRPC endpoints (comma-separated)")
      ->type_name("HOST:PORT,...")
      ->delimiter(',')
      // One value per occurrence: the next word is never taken as an endpoint.
      ->allow_extra_args(false)
      ->capture_default_str();
  app.add_option("--dial-timeout", flags->dial_timeout, "dial timeout for client connections")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--command-timeout", flags->command_timeout,
                 "timeout for short running command (excluding dial timeout)")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--keepalive-time", flags->keepalive_time, "keepalive time for client connections")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--keepalive-timeout", flags->keepalive_timeout,
                 "keepalive timeout for client connections")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("-w,--write-out", flags->write_out,
                 "set the output format (fields, json, protobuf, simple, table)")
      ->type_name("FORMAT")
      ->capture_default_str();
  app.add_flag("--hex", flags->hex, "print byte strings as hex encoded strings");
  app.add_option("--wire-log", flags->wire_log,
                 "record every gRPC message sent and received to FILE ('-' = stdout)")
      ->type_name("FILE");
  app.add_option("--wire-log-format", flags->wire_log_format,
                 "form of --wire-log: text or json (JSON lines, read by `etcdgrpc audit`); "
                 "default: json for a FILE ending in .jsonl, else text")
      ->type_name("text|json");
  app.add_flag("--debug", flags->debug,
               "enable client-side debug logging (accepted; see --wire-log)");
  app.add_flag("--insecure-transport", flags->insecure_transport,
               "disable transport security for client connections")
      ->capture_default_str();
  app.add_flag("--insecure-discovery", flags->insecure_discovery,
               "accept insecure SRV records describing cluster endpoints")
      ->capture_default_str();
  app.add_flag("--insecure-skip-tls-verify", flags->insecure_skip_tls_verify,
               "skip server certificate verification (CAUTION: this option should be enabled "
               "only for testing purposes)");
  app.add_option("--cacert", flags->cacert,
                 "verify certificates of TLS-enabled secure servers using this CA bundle")
      ->type_name("FILE");
  app.add_option("--cert", flags->cert, "identify secure client using this TLS certificate file")
      ->type_name("FILE");
  app.add_option("--key", flags->key, "identify secure client using this TLS key file")
      ->type_name("FILE");
  app.add_option("--user", flags->user,
                 "username[:password] for authentication (prompt if password is not supplied)")
      ->type_name("USER");
  app.add_option("--password", flags->password,
                 "password for authentication (if this option is used, --user option shouldn't "
                 "include password)")
      ->type_name("PASSWORD");
  app.add_option("-d,--discovery-srv", flags->discovery_srv,
                 "domain name to query for SRV records describing cluster endpoints "
                 "(accepted; etcdgrpc does not query DNS)")
      ->type_name("DOMAIN");
  app.add_option("--discovery-srv-name", flags->discovery_srv_name,
                 "service name to query when using DNS discovery")
      ->type_name("NAME");
}

std::vector<std::string> GlobalFlagNames() {
  // Sorted, as pflag's VisitAll goes through them.
  return {"cacert",
          "cert",
          "command-timeout",
          "debug",
          "dial-timeout",
          "discovery-srv",
          "discovery-srv-name",
          "endpoints",
          "hex",
          "insecure-discovery",
          "insecure-skip-tls-verify",
          "insecure-transport",
          "keepalive-time",
          "keepalive-timeout",
          "key",
          "password",
          "user",
          "wire-log",
          "wire-log-format",
          "write-out"};
}

namespace {

// Go's strconv.ParseBool.
bool ParseGoBool(const std::string& text, bool* value) {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) return *value = true, true;
  }
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) return *value = false, true;
  }
  return false;
}

}  // namespace

bool SetGlobalFlag(GlobalFlags* flags, const std::string& name, const std::string& value) {
  std::string* text = nullptr;
  if (name == "dial-timeout") text = &flags->dial_timeout;
  if (name == "command-timeout") text = &flags->command_timeout;
  if (name == "keepalive-time") text = &flags->keepalive_time;
  if (name == "keepalive-timeout") text = &flags->keepalive_timeout;
  if (text != nullptr) {
    if (!ParseDurationFlag(name, value).ok()) return false;
    *text = value;
    return true;
  }
  bool* flag = nullptr;
  if (name == "hex") flag = &flags->hex;
  if (name == "debug") flag = &flags->debug;
  if (name == "insecure-transport") flag = &flags->insecure_transport;
  if (name == "insecure-discovery") flag = &flags->insecure_discovery;
  if (name == "insecure-skip-tls-verify") flag = &flags->insecure_skip_tls_verify;
  if (flag != nullptr) return ParseGoBool(value, flag);
  if (name == "endpoints") {
    flags->endpoints = absl::StrSplit(value, ',');
    return true;
  }
  if (name == "write-out") text = &flags->write_out;
  if (name == "wire-log") text = &flags->wire_log;
  if (name == "wire-log-format") text = &flags->wire_log_format;
  if (name == "cacert") text = &flags->cacert;
  if (name == "cert") text = &flags->cert;
  if (name == "key") text = &flags->key;
  if (name == "user") text = &flags->user;
  if (name == "password") text = &flags->password;
  if (name == "discovery-srv") text = &flags->discovery_srv;
  if (name == "discovery-srv-name") text = &flags->discovery_srv_name;
  if (text == nullptr) return false;
  *text = value;
  return true;
}

namespace {

// Reads a line from the terminal without echoing it, like etcdctl (speakeasy).
absl::StatusOr<std::string> AskPassword(const char* prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return CliError(kExitBadArgs,
                    "no password given (--user name:password or --password) and no terminal "
                    "to ask for one");
  }
  (void)!::write(fd, prompt, std::strlen(prompt));
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return line;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& name,
                                                 const std::string& value) {
  absl::Duration duration;
  // absl accepts "inf", Go does not.
  if (value.find("inf") != std::string::npos || !absl::ParseDuration(value, &duration)) {
    return UsageError(absl::StrCat("invalid argument ", GoQuote(value), " for \"--", name,
                                   "\" flag: time: invalid duration ", GoQuote(value)));
  }
  return duration;
}

absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& value) {
  if (value == "simple") return OutputFormat::kSimple;
  if (value == "json") return OutputFormat::kJson;
  if (value == "table") return OutputFormat::kTable;
  if (value == "fields") return OutputFormat::kFields;
  if (value == "protobuf") return OutputFormat::kProtobuf;
  return CliError(kExitBadFeature, "unsupported output format");
}

absl::Status ValidateGlobalFlags(const GlobalFlags& flags) {
  if (auto d = ParseDurationFlag("dial-timeout", flags.dial_timeout); !d.ok()) return d.status();
  if (auto d = ParseDurationFlag("command-timeout", flags.command_timeout); !d.ok()) {
    return d.status();
  }
  if (auto d = ParseDurationFlag("keepalive-time", flags.keepalive_time); !d.ok()) {
    return d.status();
  }
  if (auto d = ParseDurationFlag("keepalive-timeout", flags.keepalive_timeout); !d.ok()) {
    return d.status();
  }
  if (auto f = ParseOutputFormat(flags.write_out); !f.ok()) return f.status();
  if (auto f = ParseWireLogFormat(flags); !f.ok()) return f.status();
  // etcdctl's keyAndCertFromCmd: a TLS flag given as "" is refused.
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"cert", flags.cert},
                                    {"key", flags.key},
                                    {"cacert", flags.cacert}}) {
    if (value.empty() && flags.changed.count(name) > 0) {
      return CliError(kExitBadArgs, absl::StrCat("empty string is passed to --", name, " option"));
    }
  }
  if (flags.cert.empty() != flags.key.empty()) {
    // etcdctl's words (etcd's transport.TLSInfo) and exit code.
    return CliError(kExitBadArgs, absl::StrCat("KeyFile and CertFile must both be present[key: ",
                                               flags.key, ", cert: ", flags.cert, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WireLogFormat> ParseWireLogFormat(const GlobalFlags& flags) {
  if (flags.wire_log_format == "json") return WireLogFormat::kJson;
  if (flags.wire_log_format == "text") return WireLogFormat::kText;
  if (flags.wire_log_format.empty()) {
    return absl::EndsWith(flags.wire_log, ".jsonl") ? WireLogFormat::kJson : WireLogFormat::kText;
  }
  return CliError(kExitBadArgs, absl::StrCat("unsupported wire log format \"",
                                             flags.wire_log_format, "\" (text or json)"));
}

absl::StatusOr<ClientOptions> MakeClientOptions(const GlobalFlags& flags) {
  if (!flags.discovery_srv.empty()) {
    return CliError(kExitError, absl::StrCat("DNS discovery (--discovery-srv ", flags.discovery_srv,
                                             ") is not supported by etcdgrpc; use --endpoints"));
  }
  ClientOptions options;
  // etcdctl accepts an endpoint given twice (endpoint status reports it twice);
  // the client library refuses duplicates, so connect to each once.
  options.endpoints.clear();
  std::set<std::string> seen;
  for (const std::string& endpoint : flags.endpoints) {
    std::string_view address = endpoint;
    for (std::string_view scheme : {"http://", "https://"}) {
      if (address.substr(0, scheme.size()) == scheme) address.remove_prefix(scheme.size());
    }
    if (seen.insert(std::string(address)).second) options.endpoints.push_back(endpoint);
  }
  absl::StatusOr<absl::Duration> dial = ParseDurationFlag("dial-timeout", flags.dial_timeout);
  if (!dial.ok()) return dial.status();
  absl::StatusOr<absl::Duration> command =
      ParseDurationFlag("command-timeout", flags.command_timeout);
  if (!command.ok()) return command.status();
  options.dial_timeout = *dial;
  options.request_timeout = *command;
  absl::StatusOr<absl::Duration> keepalive_time =
      ParseDurationFlag("keepalive-time", flags.keepalive_time);
  if (!keepalive_time.ok()) return keepalive_time.status();
  absl::StatusOr<absl::Duration> keepalive_timeout =
      ParseDurationFlag("keepalive-timeout", flags.keepalive_timeout);
  if (!keepalive_timeout.ok()) return keepalive_timeout.status();
  // What grpc-go makes of etcdctl's values: a ping interval under 10 s is
  // raised to 10 s (etcd answers pings more often than every 5 s with GOAWAY),
  // a time-out of 0 means 20 s.
  options.liveness.keepalive_time = std::max(*keepalive_time, absl::Seconds(10));
  options.liveness.keepalive_timeout =
      *keepalive_timeout > absl::ZeroDuration() ? *keepalive_timeout : absl::Seconds(20);
  if (!flags.wire_log.empty()) {
    absl::StatusOr<WireLogFormat> format = ParseWireLogFormat(flags);
    if (!format.ok()) return format.status();
    absl::StatusOr<std::shared_ptr<WireLogSink>> sink =
        OpenWireLogFile(flags.wire_log, WireLogFileOptions{.format = *format});
    if (!sink.ok()) return CliError(kExitIO, std::string(sink.status().message()));
    options.wire_log = *std::move(sink);
  }
  if (!flags.user.empty()) {
    // etcdctl's rules: --password takes --user as the whole name; otherwise
    // "name:password", or just "name" and the password from the terminal.
    if (!flags.password.empty()) {
      options.username = flags.user;
      options.password = flags.password;
    } else if (size_t colon = flags.user.find(':'); colon != std::string::npos) {
      options.username = flags.user.substr(0, colon);
      options.password = flags.user.substr(colon + 1);
    } else {
      absl::StatusOr<std::string> password = AskPassword("Password: ");
      if (!password.ok()) return password.status();
      options.username = flags.user;
      options.password = *std::move(password);
    }
  }
  // etcdctl's newClientCfg: any TLS file means TLS; --insecure-transport=false
  // means TLS with the system's roots; --insecure-skip-tls-verify applies to
  // either.
  if (!flags.cacert.empty() || !flags.cert.empty() || !flags.key.empty() ||
      !flags.insecure_transport) {
    options.tls =
        TlsOptions{.ca_file = flags.cacert, .cert_file = flags.cert, .key_file = flags.key};
    // Silently, as etcdctl: a warning line would break the line-counting
    // scripts and tests (etcd's e2e suite) that run with this flag.
    options.tls->skip_server_verification = flags.insecure_skip_tls_verify;
  }
  return options;
}

}  // namespace etcdgrpc::cli
