#include "cli/global_flags.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
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
  app.add_option("-w,--write-out", flags->write_out, "set the output format (json, simple, table)")
      ->type_name("FORMAT")
      ->capture_default_str();
  app.add_flag("--hex", flags->hex, "print byte strings as hex encoded strings");
  app.add_option("--wire-log", flags->wire_log,
                 "record every gRPC message sent and received to FILE ('-' = stdout)")
      ->type_name("FILE");
  // etcdctl's TLS flags. There is deliberately no --insecure-skip-tls-verify.
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
  return CliError(kExitBadFeature, "unsupported output format");
}

absl::Status ValidateGlobalFlags(const GlobalFlags& flags) {
  if (auto d = ParseDurationFlag("dial-timeout", flags.dial_timeout); !d.ok()) return d.status();
  if (auto d = ParseDurationFlag("command-timeout", flags.command_timeout); !d.ok()) {
    return d.status();
  }
  if (auto f = ParseOutputFormat(flags.write_out); !f.ok()) return f.status();
  if (flags.cert.empty() != flags.key.empty()) {
    // etcdctl's words (etcd's transport.TLSInfo) and exit code.
    return CliError(kExitBadArgs, absl::StrCat("KeyFile and CertFile must both be present[key: ",
                                               flags.key, ", cert: ", flags.cert, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ClientOptions> MakeClientOptions(const GlobalFlags& flags) {
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
  if (!flags.wire_log.empty()) {
    absl::StatusOr<std::shared_ptr<WireLogSink>> sink = OpenWireLogFile(flags.wire_log);
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
  if (!flags.cacert.empty() || !flags.cert.empty() || !flags.key.empty()) {
    options.tls =
        TlsOptions{.ca_file = flags.cacert, .cert_file = flags.cert, .key_file = flags.key};
  }
  return options;
}

}  // namespace etcdgrpc::cli
