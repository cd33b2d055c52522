// `lease revoke <leaseID>`: revokes a lease, deleting the keys attached to it.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/lease_id.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class LeaseRevokeCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("leaseID", args_, "<leaseID> in hexadecimal")->type_name("");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) return CliError(kExitBadArgs, "lease revoke command needs 1 argument");
    absl::StatusOr<int64_t> id = ParseLeaseIdArg(args_[0]);
    if (!id.ok()) return id.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    // etcd has no lease with an id <= 0 (the client library refuses them).
    absl::StatusOr<ResponseHeader> header =
        *id > 0 ? (*client)->Revoke(*id)
                : absl::NotFoundError("etcdserver: requested lease not found");
    if (!header.ok()) {
      return CliError(kExitError,
                      absl::StrCat("failed to revoke lease (", ErrorText(header.status()), ")"));
    }
    // Like etcdctl: the lease is revoked, then the format refused.
    // protobuf: etcdctl's response type cannot be marshaled (also after the revoke).
    if (env.format() == OutputFormat::kProtobuf) return ProtobufLeaseRevoke(*header);
    const Printers<ResponseHeader> printers{
        .simple = [&id](const ResponseHeader&) { return SimpleLeaseRevoke(*id); },
        .json = JsonLeaseRevoke,
        .table = nullptr,
        .fields = FieldsLeaseRevoke,
        .protobuf = nullptr};
    return printers.Print(env, *header);
  }

 private:
  std::vector<std::string> args_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "revoke"}, .summary = "Revokes leases", .make = [] {
       return std::make_unique<LeaseRevokeCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
