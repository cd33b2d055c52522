// The one class behind `member remove` and `member promote` (see the header).
#include "cli/member_id_command.h"

#include <utility>
#include <vector>

#include "cli/exit_status.h"
#include "cli/json_format.h"
#include "cli/member_args.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/simple_format.h"

namespace etcdgrpc::cli {
namespace {

class MemberIdCommand final : public Command {
 public:
  explicit MemberIdCommand(MemberIdCommandSpec spec) : spec_(std::move(spec)) {}

  void Configure(CLI::App& app) override { app.add_option("args", args_)->group(""); }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<uint64_t> id = MemberIdArg(args_);
    if (!id.ok()) return id.status();
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<MemberListResult> changed = spec_.call(**client, *id);
    if (absl::IsInvalidArgument(changed.status())) return RefusedBeforeSending(changed.status());
    if (!changed.ok()) return changed.status();
    // etcdctl has no fields printer for member remove ("fields not supported
    // as output format" once the change is made). Its json, fields and
    // protobuf printers have no promote method and panic (a nil pointer);
    // promote does what remove and update do.
    const Printers<MemberListResult> printers{.simple =
                                                  [&](const MemberListResult& r) {
                                                    return SimpleMemberChange(*id, r.header,
                                                                              spec_.verb);
                                                  },
                                              .json = JsonMemberChange,
                                              .table = nullptr,
                                              .fields = nullptr,
                                              .protobuf = ProtobufMemberList};
    return printers.Print(env, *changed);
  }

 private:
  MemberIdCommandSpec spec_;
  std::vector<std::string> args_;
};

}  // namespace

std::unique_ptr<Command> MakeMemberIdCommand(MemberIdCommandSpec spec) {
  return std::make_unique<MemberIdCommand>(std::move(spec));
}

}  // namespace etcdgrpc::cli
