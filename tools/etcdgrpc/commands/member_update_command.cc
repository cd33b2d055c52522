// `member update <memberID> --peer-urls=...`: changes a member's peer URLs.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/json_format.h"
#include "cli/member_args.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class MemberUpdateCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_)->group("");
    app.add_option("--peer-urls", peer_urls_, "comma separated peer URLs for the updated member.");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<uint64_t> id = MemberIdArg(args_);
    if (!id.ok()) return id.status();
    if (peer_urls_.empty()) return CliError(kExitBadArgs, "member peer urls not provided");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberUpdateResult> updated =
        (*client)->cluster().MemberUpdate(*id, SplitPeerUrls(peer_urls_));
    if (absl::IsInvalidArgument(updated.status())) return RefusedBeforeSending(updated.status());
    if (!updated.ok()) return updated.status();
    // etcdctl has no fields printer for member update: "fields not supported
    // as output format" once the change is made.
    const Printers<MemberListResult> printers{.simple =
                                                  [&](const MemberListResult& r) {
                                                    return SimpleMemberChange(*id, r.header,
                                                                              "updated in");
                                                  },
                                              .json = JsonMemberChange,
                                              .table = nullptr,
                                              .fields = nullptr,
                                              .protobuf = ProtobufMemberList};
    return printers.Print(env, *updated);
  }

 private:
  std::vector<std::string> args_;
  std::string peer_urls_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "update"}, .summary = "Updates a member in the cluster", .make = [] {
       return std::make_unique<MemberUpdateCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
