// The auth commands that take only names and answer with etcd's header (role
// add/delete, user delete/grant-role/revoke-role): one command class, each
// command file gives its spec.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::cli {

struct AuthNamesCommandSpec {
  // The positional arguments in --help, e.g. "<user name> <role name>".
  std::string usage;
  size_t names = 1;
  // etcdctl's message when the count is wrong (exit code 1, as etcdctl's).
  std::string bad_args;
  // The request; an empty name is the spec's to answer (etcdctl sends some
  // and refuses others).
  std::function<absl::StatusOr<ResponseHeader>(Client&, const std::vector<std::string>&)> call;
  // etcdctl's simple output.
  std::function<std::string(const std::vector<std::string>&)> simple;
};

[[nodiscard]] std::unique_ptr<Command> MakeAuthNamesCommand(AuthNamesCommandSpec spec);

// Prints an auth command's answer as etcdctl does: `simple` for -w simple,
// etcd's header for json, fields and protobuf; table refused.
[[nodiscard]] absl::Status PrintAuthHeader(CommandEnv& env, const ResponseHeader& header,
                                           const std::string& simple);

}  // namespace etcdgrpc::cli
