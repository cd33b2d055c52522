// The Auth facade (etcdgrpc/auth.h): authentication on and off, and users.
// Roles are in auth_roles.cc.
#include "etcdgrpc/auth.h"

#include <string>
#include <utility>

#include "etcdgrpc/client.h"
#include "lib/internal/auth_calls.h"
#include "lib/internal/auth_codec.h"
#include "lib/internal/client_core.h"

namespace etcdgrpc {

using internal::CallAuth;
using internal::CallAuthAsync;
using internal::ParseAuthHeader;

Auth Client::auth() { return Auth(core_); }

Auth::Auth(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}

absl::StatusOr<ResponseHeader> Auth::Enable() {
  return CallAuth(*core_, internal::kAuthEnableRpc, etcdserverpb::AuthEnableRequest(),
                  ParseAuthHeader<etcdserverpb::AuthEnableResponse>);
}

absl::StatusOr<ResponseHeader> Auth::Disable() {
  return CallAuth(*core_, internal::kAuthDisableRpc, etcdserverpb::AuthDisableRequest(),
                  ParseAuthHeader<etcdserverpb::AuthDisableResponse>);
}

absl::StatusOr<AuthStatusResult> Auth::Status() {
  return CallAuth(*core_, internal::kAuthStatusRpc, etcdserverpb::AuthStatusRequest(),
                  internal::ParseAuthStatus);
}

absl::StatusOr<ResponseHeader> Auth::UserAdd(std::string_view name, std::string_view password,
                                             const UserAddOptions& options) {
  return CallAuth(*core_, internal::kUserAddRpc, internal::BuildUserAdd(name, password, options),
                  ParseAuthHeader<etcdserverpb::AuthUserAddResponse>);
}

absl::StatusOr<UserGetResult> Auth::UserGet(std::string_view name) {
  return CallAuth(*core_, internal::kUserGetRpc, internal::BuildUserGet(name),
                  internal::ParseUserGet);
}

absl::StatusOr<UserListResult> Auth::UserList() {
  return CallAuth(*core_, internal::kUserListRpc, etcdserverpb::AuthUserListRequest(),
                  internal::ParseUserList);
}

absl::StatusOr<ResponseHeader> Auth::UserDelete(std::string_view name) {
  return CallAuth(*core_, internal::kUserDeleteRpc, internal::BuildUserDelete(name),
                  ParseAuthHeader<etcdserverpb::AuthUserDeleteResponse>);
}

absl::StatusOr<ResponseHeader> Auth::UserChangePassword(std::string_view name,
                                                        std::string_view password) {
  absl::StatusOr<ResponseHeader> header = CallAuth(
      *core_, internal::kUserChangePasswordRpc, internal::BuildChangePassword(name, password),
      ParseAuthHeader<etcdserverpb::AuthUserChangePasswordResponse>);
  // etcd dropped the user's tokens: this client's next token, if the user is
  // its own, needs the new password.
  if (header.ok()) core_->connection->PasswordChanged(name, password);
  return header;
}

absl::StatusOr<ResponseHeader> Auth::UserGrantRole(std::string_view user, std::string_view role) {
  return CallAuth(*core_, internal::kUserGrantRoleRpc, internal::BuildGrantRole(user, role),
                  ParseAuthHeader<etcdserverpb::AuthUserGrantRoleResponse>);
}

absl::StatusOr<ResponseHeader> Auth::UserRevokeRole(std::string_view user, std::string_view role) {
  return CallAuth(*core_, internal::kUserRevokeRoleRpc, internal::BuildRevokeRole(user, role),
                  ParseAuthHeader<etcdserverpb::AuthUserRevokeRoleResponse>);
}

void Auth::EnableAsync(Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kAuthEnableRpc, etcdserverpb::AuthEnableRequest(),
                ParseAuthHeader<etcdserverpb::AuthEnableResponse>, std::move(done));
}

void Auth::DisableAsync(Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kAuthDisableRpc, etcdserverpb::AuthDisableRequest(),
                ParseAuthHeader<etcdserverpb::AuthDisableResponse>, std::move(done));
}

void Auth::StatusAsync(Callback<AuthStatusResult> done) {
  CallAuthAsync(*core_, internal::kAuthStatusRpc, etcdserverpb::AuthStatusRequest(),
                internal::ParseAuthStatus, std::move(done));
}

void Auth::UserAddAsync(std::string_view name, std::string_view password,
                        const UserAddOptions& options, Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kUserAddRpc, internal::BuildUserAdd(name, password, options),
                ParseAuthHeader<etcdserverpb::AuthUserAddResponse>, std::move(done));
}

void Auth::UserGetAsync(std::string_view name, Callback<UserGetResult> done) {
  CallAuthAsync(*core_, internal::kUserGetRpc, internal::BuildUserGet(name), internal::ParseUserGet,
                std::move(done));
}

void Auth::UserListAsync(Callback<UserListResult> done) {
  CallAuthAsync(*core_, internal::kUserListRpc, etcdserverpb::AuthUserListRequest(),
                internal::ParseUserList, std::move(done));
}

void Auth::UserDeleteAsync(std::string_view name, Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kUserDeleteRpc, internal::BuildUserDelete(name),
                ParseAuthHeader<etcdserverpb::AuthUserDeleteResponse>, std::move(done));
}

void Auth::UserChangePasswordAsync(std::string_view name, std::string_view password,
                                   Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kUserChangePasswordRpc,
                internal::BuildChangePassword(name, password),
                ParseAuthHeader<etcdserverpb::AuthUserChangePasswordResponse>,
                [core = core_, name = std::string(name), password = std::string(password),
                 done = std::move(done)](absl::StatusOr<ResponseHeader> header) mutable {
                  if (header.ok()) core->connection->PasswordChanged(name, password);
                  std::move(done)(std::move(header));
                });
}

void Auth::UserGrantRoleAsync(std::string_view user, std::string_view role,
                              Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kUserGrantRoleRpc, internal::BuildGrantRole(user, role),
                ParseAuthHeader<etcdserverpb::AuthUserGrantRoleResponse>, std::move(done));
}

void Auth::UserRevokeRoleAsync(std::string_view user, std::string_view role,
                               Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kUserRevokeRoleRpc, internal::BuildRevokeRole(user, role),
                ParseAuthHeader<etcdserverpb::AuthUserRevokeRoleResponse>, std::move(done));
}

}  // namespace etcdgrpc
