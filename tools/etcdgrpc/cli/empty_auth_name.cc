#include "cli/empty_auth_name.h"

namespace etcdgrpc::cli {

absl::Status EmptyUserNameOnAdd() {
  return absl::InvalidArgumentError("etcdserver: user name is empty");
}

absl::Status EmptyRoleNameOnAdd() {
  return absl::InvalidArgumentError("etcdserver: role name is empty");
}

absl::Status EmptyUserNotFound() {
  return absl::FailedPreconditionError("etcdserver: user name not found");
}

absl::Status EmptyRoleNotFound() {
  return absl::FailedPreconditionError("etcdserver: role name not found");
}

absl::Status EmptyRoleOfUser(Client& client, std::string_view user, bool grant) {
  if (user.empty()) return EmptyUserNotFound();
  absl::StatusOr<UserGetResult> found = client.auth().UserGet(user);
  if (!found.ok()) return found.status();
  if (grant) return EmptyRoleNotFound();
  return absl::FailedPreconditionError("etcdserver: role is not granted to the user");
}

}  // namespace etcdgrpc::cli
