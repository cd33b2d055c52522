// `txn [-i]`: reads a transaction in etcdctl's syntax from stdin and commits it.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"
#include "cli/txn_parser.h"

namespace etcdgrpc::cli {
namespace {

class TxnCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_flag("-i,--interactive", interactive_, "Input transaction in interactive mode");
    app.add_option("args", args_)->group("");
  }

  absl::Status Run(CommandEnv& env) override {
    const Printers<TxnResult> printers{
        .simple = [&env](const TxnResult& r) { return SimpleTxn(r, env.simple_options()); },
        .json = JsonTxn,
        .table = nullptr,
        .fields = FieldsTxn,
        .protobuf = ProtobufTxn};
    if (absl::Status status = printers.Check(env.format()); !status.ok()) return status;
    if (!args_.empty()) return CliError(kExitBadArgs, "txn command does not accept argument");
    // Connect before reading, as etcdctl does: no point typing a transaction
    // that cannot be sent.
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    std::function<void(std::string_view)> prompt;
    if (interactive_) {
      prompt = [&env](std::string_view text) {
        env.Print(std::string(text) + "\n");
        env.Flush();
      };
    }
    absl::StatusOr<TxnRequest> txn = ReadTxn(env.in(), prompt);
    if (!txn.ok()) return txn.status();
    absl::StatusOr<TxnResult> result = (*client)->Txn(*txn);
    if (!result.ok()) return result.status();
    return printers.Print(env, *result);
  }

 private:
  bool interactive_ = false;
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"txn"}, .summary = "Txn processes all the requests in one transaction", .make = [] {
       return std::make_unique<TxnCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
