// The member commands that take only a member ID and answer with the member
// list (remove, promote): one command class, each command file gives its call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/command.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::cli {

struct MemberIdCommandSpec {
  std::function<absl::StatusOr<MemberListResult>(Client&, uint64_t id)> call;
  // What etcdctl's simple output says happened: "Member <id> <verb> cluster <cid>".
  std::string verb;
};

[[nodiscard]] std::unique_ptr<Command> MakeMemberIdCommand(MemberIdCommandSpec spec);

}  // namespace etcdgrpc::cli
