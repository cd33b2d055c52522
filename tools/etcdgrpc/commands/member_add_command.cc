// `member add <name> --peer-urls=... [--learner]`: adds a member (or a learner)
// and prints the environment the new member starts with, as etcdctl does.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

class MemberAddCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_)->group("");
    app.add_option("--peer-urls", peer_urls_, "comma separated peer URLs for the new member.");
    app.add_flag("--learner", learner_, "indicates if the new member is raft learner");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.empty()) return CliError(kExitBadArgs, "member name not provided");
    if (args_.size() > 1) {
      std::string message = "too many arguments";
      for (const std::string& arg : args_) {
        if (absl::StartsWith(absl::AsciiStrToLower(arg), "http")) {
          absl::StrAppend(&message, ", did you mean --peer-urls=", arg);
        }
      }
      return CliError(kExitBadArgs, message);
    }
    if (peer_urls_.empty()) return CliError(kExitBadArgs, "member peer urls not provided");
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberAddResult> added =
        (*client)->cluster().MemberAdd(SplitPeerUrls(peer_urls_), {.learner = learner_});
    if (absl::IsInvalidArgument(added.status())) return RefusedBeforeSending(added.status());
    if (!added.ok()) return added.status();
    // etcdctl has no fields printer for member add: "fields not supported as
    // output format" once the member is added.
    const Printers<MemberAddResult> printers{
        .simple =
            [&](const MemberAddResult& r) { return SimpleMemberAdd(r, args_[0], peer_urls_); },
        .json = JsonMemberAdd,
        .table = nullptr,
        .fields = nullptr,
        .protobuf = ProtobufMemberAdd};
    return printers.Print(env, *added);
  }

 private:
  std::vector<std::string> args_;
  std::string peer_urls_;
  bool learner_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"member", "add"}, .summary = "Adds a member into the cluster", .make = [] {
       return std::make_unique<MemberAddCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
