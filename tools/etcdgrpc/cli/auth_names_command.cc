// The one class behind the auth commands that take only names (see the header).
#include "cli/auth_names_command.h"

#include <utility>

#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"

namespace etcdgrpc::cli {
namespace {

class AuthNamesCommand final : public Command {
 public:
  explicit AuthNamesCommand(AuthNamesCommandSpec spec) : spec_(std::move(spec)) {}

  void Configure(CLI::App& app) override {
    app.add_option("args", args_, spec_.usage)->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != spec_.names) return CliError(kExitBadArgs, spec_.bad_args);
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header = spec_.call(**client, args_);
    if (!header.ok()) return header.status();
    return PrintAuthHeader(env, *header, spec_.simple(args_));
  }

 private:
  AuthNamesCommandSpec spec_;
  std::vector<std::string> args_;
};

}  // namespace

absl::Status PrintAuthHeader(CommandEnv& env, const ResponseHeader& header,
                             const std::string& simple) {
  const Printers<ResponseHeader> printers{.simple = [&](const ResponseHeader&) { return simple; },
                                          .json = JsonAuthHeader,
                                          .table = nullptr,
                                          .fields = FieldsHeader,
                                          .protobuf = ProtobufAuthHeader};
  return printers.Print(env, header);
}

std::unique_ptr<Command> MakeAuthNamesCommand(AuthNamesCommandSpec spec) {
  return std::make_unique<AuthNamesCommand>(std::move(spec));
}

}  // namespace etcdgrpc::cli
