// `del <key> [<range_end>]`: deletes a key or a range of keys.
#include <memory>

#include "cli/command.h"
#include "cli/empty_range.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/kv_flags.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class DelCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { AddDelFlags(app, &flags_); }

  absl::Status Run(CommandEnv& env) override {
    const Printers<DeleteResult> printers{
        .simple = [&env](const DeleteResult& r) { return SimpleDelete(r, env.simple_options()); },
        .json = JsonDelete,
        .table = nullptr,
        .fields = FieldsDelete,
        .protobuf = ProtobufDelete};
    if (absl::Status status = printers.Check(env.format()); !status.ok()) return status;
    absl::StatusOr<DeletePlan> plan = MakeDeletePlan(flags_);
    if (!plan.ok()) return plan.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<DeleteResult> result = IsEmptyRange(plan->range)
                                              ? EmptyDelete(**client, plan->range)
                                              : (*client)->DeleteRange(plan->range, plan->options);
    if (!result.ok()) return result.status();
    return printers.Print(env, *result);
  }

 private:
  DelFlags flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"del"},
     .summary = "Removes the specified key or range of keys [key, range_end)",
     .make = [] { return std::make_unique<DelCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
