// `get <key> [<range_end>]`: reads a key or a range of keys.
#include <memory>

#include "cli/command.h"
#include "cli/empty_range.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/kv_flags.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class GetCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { AddGetFlags(app, &flags_); }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<GetPlan> plan = MakeGetPlan(flags_);
    const Printers<GetResult> printers{.simple =
                                           [&env, &plan](const GetResult& r) {
                                             if (plan->options.count_only) return SimpleCount(r);
                                             SimpleOptions options = env.simple_options();
                                             options.value_only = plan->print_value_only;
                                             return SimpleGet(r, options);
                                           },
                                       .json = JsonGet,
                                       .table = nullptr,
                                       .fields = FieldsGet,
                                       .protobuf = ProtobufGet};
    if (absl::Status status = printers.Check(env.format()); !status.ok()) return status;
    if (!plan.ok()) return plan.status();
    // etcdctl checks this after the request; nothing is lost by checking first.
    if (plan->print_value_only && env.format() != OutputFormat::kSimple) {
      return CliError(kExitBadArgs, "print-value-only is only for `--write-out=simple`");
    }
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<GetResult> result = IsEmptyRange(plan->range)
                                           ? EmptyGet(**client, plan->range, plan->options)
                                           : (*client)->Range(plan->range, plan->options);
    if (!result.ok()) return result.status();
    return printers.Print(env, *result);
  }

 private:
  GetFlags flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"get"}, .summary = "Gets the key or a range of keys", .make = [] {
       return std::make_unique<GetCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
