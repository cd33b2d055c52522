// etcd's answers to an empty user or role name: etcdctl sends them, but the
// client library refuses them before sending (an empty name there is a bug, and
// etcd's "user name is empty" is also its answer to a call without a token), so
// the user and role commands report what etcdctl prints. These are etcd's
// answers with authentication off or to root; etcd answers "permission denied"
// first to a user without the root role.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::cli {

// `user add ""`: "etcdserver: user name is empty".
[[nodiscard]] absl::Status EmptyUserNameOnAdd();
// `role add ""`: "etcdserver: role name is empty".
[[nodiscard]] absl::Status EmptyRoleNameOnAdd();
// Every other command naming the user "": "etcdserver: user name not found".
[[nodiscard]] absl::Status EmptyUserNotFound();
// Every other command naming the role "": "etcdserver: role name not found".
[[nodiscard]] absl::Status EmptyRoleNotFound();
// `user grant-role <user> ""` and `user revoke-role <user> ""`: etcd looks the
// user up first (its error, e.g. "user name not found"), then answers "role
// name not found" (grant) or "role is not granted to the user" (revoke).
[[nodiscard]] absl::Status EmptyRoleOfUser(Client& client, std::string_view user, bool grant);

}  // namespace etcdgrpc::cli
