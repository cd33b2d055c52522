// `lease grant <ttl>`: creates a lease (and registers the `lease` group).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/go_text.h"
#include "cli/json_format.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class LeaseGrantCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("ttl", args_, "<ttl> in seconds")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "lease grant command needs TTL argument");
    absl::StatusOr<int64_t> ttl = GoParseInt(args_[0], 10);
    if (!ttl.ok()) {
      return CliError(kExitBadArgs, absl::StrCat("bad TTL (", ttl.status().message(), ")"));
    }
    // etcdctl grants first and then refuses the format; refusing first
    // leaves no lease behind.
    const Printers<LeaseGrantResult> printers{
        .simple = SimpleLeaseGrant,
        .json = JsonLeaseGrant,
        .table = nullptr,
        .fields = FieldsLeaseGrant,
        .protobuf = [](const LeaseGrantResult& r) { return ProtobufHeaderOnly(r.header); }};
    if (absl::Status status = printers.Check(env.format()); !status.ok()) return status;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    // etcd raises a TTL below its minimum (at least 1 s) to that minimum; the
    // client library refuses a TTL <= 0, which etcd would raise the same way.
    absl::StatusOr<LeaseGrantResult> result = (*client)->Grant(*ttl > 0 ? *ttl : 1);
    if (!result.ok()) {
      return CliError(kExitError,
                      absl::StrCat("failed to grant lease (", ErrorText(result.status()), ")"));
    }
    return printers.Print(env, *result);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kGroupRegistered = CommandRegistry::Global().Add(
    {.path = {"lease"}, .summary = "Lease related commands", .make = nullptr});

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "grant"}, .summary = "Creates leases", .make = [] {
       return std::make_unique<LeaseGrantCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
