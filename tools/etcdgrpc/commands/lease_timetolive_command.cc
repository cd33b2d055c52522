// `lease timetolive <leaseID> [--keys]`: a lease's granted and remaining TTL,
// and optionally the keys attached to it.
#include <memory>
#include <string>
#include <vector>

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

class LeaseTimeToLiveCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("leaseID", args_, "<leaseID> in hexadecimal")->type_name("");
    app.add_flag("--keys", keys_, "Get keys attached to this lease");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "lease timetolive command needs lease ID as argument");
    }
    absl::StatusOr<int64_t> id = ParseLeaseIdArg(args_[0]);
    if (!id.ok()) return id.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    // etcd answers an unknown lease with TTL -1 ("already expired"), not an
    // error. etcdctl waits without a time-out; the client's request time-out
    // (--command-timeout) applies here.
    absl::StatusOr<LeaseTimeToLiveResult> result =
        *id > 0 ? (*client)->TimeToLive(*id, keys_) : UnknownLease(**client, *id);
    if (!result.ok()) return CliError(kExitBadConnection, ErrorText(result.status()));
    const Printers<LeaseTimeToLiveResult> printers{
        .simple =
            [this](const LeaseTimeToLiveResult& r) { return SimpleLeaseTimeToLive(r, keys_); },
        .json = JsonLeaseTimeToLive,
        .table = nullptr,
        .fields = FieldsLeaseTimeToLive,
        .protobuf = [](const LeaseTimeToLiveResult& r) { return ProtobufHeaderOnly(r.header); }};
    return printers.Print(env, *result);
  }

 private:
  // etcd has no lease with an id <= 0 and the client library refuses to ask:
  // etcd's answer for an unknown lease, with the header of another Lease call.
  static absl::StatusOr<LeaseTimeToLiveResult> UnknownLease(Client& client, int64_t id) {
    absl::StatusOr<LeaseListResult> list = client.Leases();
    if (!list.ok()) return list.status();
    return LeaseTimeToLiveResult{
        .header = list->header, .id = id, .ttl = -1, .granted_ttl = 0, .keys = {}};
  }

  std::vector<std::string> args_;
  bool keys_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "timetolive"}, .summary = "Get lease information", .make = [] {
       return std::make_unique<LeaseTimeToLiveCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
