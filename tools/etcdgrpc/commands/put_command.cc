// `put <key> [<value>]`: puts a key; the value is read from stdin when omitted.
#include <memory>

#include "cli/command.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/kv_flags.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class PutCommand final : public Command {
 public:
  void Configure(CLI::App& app) override { AddPutFlags(app, &flags_); }

  absl::Status Run(CommandEnv& env) override {
    const Printers<PutResult> printers{
        .simple = [&env](const PutResult& r) { return SimplePut(r, env.simple_options()); },
        .json = JsonPut,
        .table = nullptr,
        .fields = FieldsPut,
        .protobuf = ProtobufPut};
    if (absl::Status status = printers.Check(env.format()); !status.ok()) return status;
    absl::StatusOr<PutPlan> plan = MakePutPlan(flags_, &env.in());
    if (!plan.ok()) return plan.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<PutResult> result = (*client)->Put(plan->key, plan->value, plan->options);
    if (!result.ok()) return result.status();
    return printers.Print(env, *result);
  }

 private:
  PutFlags flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"put"}, .summary = "Puts the given key into the store", .make = [] {
       return std::make_unique<PutCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
