#include "cli/command.h"

#include <utility>

#include "absl/strings/match.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {

absl::StatusOr<std::unique_ptr<Client>> CommandEnv::Connect(bool wait) const {
  absl::StatusOr<ClientOptions> options = MakeClientOptions(flags_);
  if (!options.ok()) return options.status();
  if (!wait) options->dial_timeout = absl::ZeroDuration();
  const bool authenticates = !options->username.empty();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(*std::move(options));
  // etcdctl's client authenticates while it is made, and a client that cannot
  // be made is its ExitBadConnection (wrong password: exit 2, not 1).
  if (!client.ok() && authenticates &&
      absl::StartsWith(client.status().message(), "authenticating as user")) {
    return CliError(kExitBadConnection, ErrorText(client.status()));
  }
  return client;
}

void CommandEnv::Print(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), out_);
}

void CommandEnv::PrintError(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), err_);
}

void CommandEnv::Flush() const { std::fflush(out_); }

CommandRegistry& CommandRegistry::Global() {
  // Never destroyed: registrations run during static initialization.
  static auto* registry = new CommandRegistry();
  return *registry;
}

bool CommandRegistry::Add(CommandSpec spec) {
  specs_.push_back(std::move(spec));
  return true;
}

const char* FormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kSimple:
      return "simple";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kFields:
      return "fields";
    case OutputFormat::kProtobuf:
      return "protobuf";
  }
  return "simple";
}

absl::Status FormatNotSupported(OutputFormat format) {
  return CliError(kExitBadFeature,
                  std::string(FormatName(format)) + " not supported as output format");
}

}  // namespace etcdgrpc::cli
