// `user delete <name>`: deletes a user.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/empty_auth_name.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class UserDeleteCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<user name>")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1)
      return CliError(kExitBadArgs, "user delete command requires user name as its argument");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<ResponseHeader> header =
        args_[0].empty() ? EmptyUserNotFound() : (*client)->auth().UserDelete(args_[0]);
    if (!header.ok()) return header.status();
    const Printers<ResponseHeader> printers{
        .simple = [&](const ResponseHeader&) { return SimpleUserDelete(args_[0]); },
        .json = JsonAuthHeader,
        .table = nullptr,
        .fields = FieldsHeader,
        .protobuf = ProtobufAuthHeader};
    return printers.Print(env, *header);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"user", "delete"}, .summary = "Deletes a user", .make = [] {
       return std::make_unique<UserDeleteCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
