// `lease list`: the ids of all active leases.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class LeaseListCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    // etcdctl ignores arguments here.
    app.add_option("ignored", ignored_)->type_name("")->group("");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<LeaseListResult> result = (*client)->Leases();
    if (!result.ok()) return CliError(kExitBadConnection, ErrorText(result.status()));
    const Printers<LeaseListResult> printers{
        .simple = SimpleLeaseList,
        .json = JsonLeaseList,
        .table = nullptr,
        .fields = FieldsLeaseList,
        .protobuf = [](const LeaseListResult& r) { return ProtobufHeaderOnly(r.header); }};
    return printers.Print(env, *result);
  }

 private:
  std::vector<std::string> ignored_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "list"}, .summary = "List all active leases", .make = [] {
       return std::make_unique<LeaseListCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
