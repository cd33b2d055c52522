// Auth requests built from the typed API, responses parsed into it.
#include "lib/internal/auth_codec.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::internal {
namespace {

// What etcdctl's StrToPermissionType and authpb agree on: READ 0, WRITE 1,
// READWRITE 2.
authpb::Permission::Type ToWire(PermissionType type) {
  switch (type) {
    case PermissionType::kRead:
      return authpb::Permission::READ;
    case PermissionType::kWrite:
      return authpb::Permission::WRITE;
    case PermissionType::kReadWrite:
      return authpb::Permission::READWRITE;
  }
  return authpb::Permission::READ;
}

PermissionType FromWire(int type) {
  switch (type) {
    case authpb::Permission::WRITE:
      return PermissionType::kWrite;
    case authpb::Permission::READWRITE:
      return PermissionType::kReadWrite;
    default:
      return PermissionType::kRead;
  }
}

// etcd keeps any [key, range_end) a role is granted, an end before the key
// included (it grants nothing): only an empty key is refused, so that every
// permission RoleGet reports can be revoked.
absl::Status CheckPermissionRange(const KeyRange& range) {
  if (range.key().empty()) return absl::InvalidArgumentError("permission key must not be empty");
  return absl::OkStatus();
}

bool IsKnown(PermissionType type) {
  return type == PermissionType::kRead || type == PermissionType::kWrite ||
         type == PermissionType::kReadWrite;
}

std::vector<std::string> Strings(google::protobuf::RepeatedPtrField<std::string>* field) {
  return {std::make_move_iterator(field->begin()), std::make_move_iterator(field->end())};
}

}  // namespace

absl::Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty())
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " must not be empty"));
  return absl::OkStatus();
}

absl::StatusOr<etcdserverpb::AuthUserGetRequest> BuildUserGet(std::string_view name) {
  if (absl::Status s = CheckName("user name", name); !s.ok()) return s;
  etcdserverpb::AuthUserGetRequest request;
  request.set_name(std::string(name));
  return request;
}

absl::StatusOr<etcdserverpb::AuthUserDeleteRequest> BuildUserDelete(std::string_view name) {
  if (absl::Status s = CheckName("user name", name); !s.ok()) return s;
  etcdserverpb::AuthUserDeleteRequest request;
  request.set_name(std::string(name));
  return request;
}

absl::StatusOr<etcdserverpb::AuthUserGrantRoleRequest> BuildGrantRole(std::string_view user,
                                                                      std::string_view role) {
  if (absl::Status s = CheckName("user name", user); !s.ok()) return s;
  if (absl::Status s = CheckName("role name", role); !s.ok()) return s;
  etcdserverpb::AuthUserGrantRoleRequest request;
  request.set_user(std::string(user));
  request.set_role(std::string(role));
  return request;
}

absl::StatusOr<etcdserverpb::AuthUserRevokeRoleRequest> BuildRevokeRole(std::string_view user,
                                                                        std::string_view role) {
  if (absl::Status s = CheckName("user name", user); !s.ok()) return s;
  if (absl::Status s = CheckName("role name", role); !s.ok()) return s;
  etcdserverpb::AuthUserRevokeRoleRequest request;
  request.set_name(std::string(user));
  request.set_role(std::string(role));
  return request;
}

absl::StatusOr<etcdserverpb::AuthRoleAddRequest> BuildRoleAdd(std::string_view name) {
  if (absl::Status s = CheckName("role name", name); !s.ok()) return s;
  etcdserverpb::AuthRoleAddRequest request;
  request.set_name(std::string(name));
  return request;
}

absl::StatusOr<etcdserverpb::AuthRoleGetRequest> BuildRoleGet(std::string_view name) {
  if (absl::Status s = CheckName("role name", name); !s.ok()) return s;
  etcdserverpb::AuthRoleGetRequest request;
  request.set_role(std::string(name));
  return request;
}

absl::StatusOr<etcdserverpb::AuthRoleDeleteRequest> BuildRoleDelete(std::string_view name) {
  if (absl::Status s = CheckName("role name", name); !s.ok()) return s;
  etcdserverpb::AuthRoleDeleteRequest request;
  request.set_role(std::string(name));
  return request;
}

absl::StatusOr<etcdserverpb::AuthUserAddRequest> BuildUserAdd(std::string_view name,
                                                              std::string_view password,
                                                              const UserAddOptions& options) {
  if (absl::Status s = CheckName("user name", name); !s.ok()) return s;
  if (options.no_password && !password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("user \"", std::string(name), "\": a password was given with no_password"));
  }
  etcdserverpb::AuthUserAddRequest request;
  request.set_name(std::string(name));
  request.set_password(std::string(password));
  // Sent always, as etcd's Go client does (etcd 3.4 reads a missing one as false).
  request.mutable_options()->set_no_password(options.no_password);
  return request;
}

absl::StatusOr<etcdserverpb::AuthUserChangePasswordRequest> BuildChangePassword(
    std::string_view name, std::string_view password) {
  if (absl::Status s = CheckName("user name", name); !s.ok()) return s;
  etcdserverpb::AuthUserChangePasswordRequest request;
  request.set_name(std::string(name));
  request.set_password(std::string(password));
  return request;
}

absl::StatusOr<etcdserverpb::AuthRoleGrantPermissionRequest> BuildGrantPermission(
    std::string_view role, const Permission& permission) {
  if (absl::Status s = CheckName("role name", role); !s.ok()) return s;
  if (absl::Status s = CheckPermissionRange(permission.range); !s.ok()) return s;
  if (!IsKnown(permission.type)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown permission type ",
                                                   static_cast<int>(permission.type),
                                                   " for role \"", std::string(role), "\""));
  }
  etcdserverpb::AuthRoleGrantPermissionRequest request;
  request.set_name(std::string(role));
  authpb::Permission* perm = request.mutable_perm();
  perm->set_permtype(ToWire(permission.type));
  perm->set_key(permission.range.key());
  perm->set_range_end(permission.range.range_end());
  return request;
}

absl::StatusOr<etcdserverpb::AuthRoleRevokePermissionRequest> BuildRevokePermission(
    std::string_view role, const KeyRange& range) {
  if (absl::Status s = CheckName("role name", role); !s.ok()) return s;
  if (absl::Status s = CheckPermissionRange(range); !s.ok()) return s;
  etcdserverpb::AuthRoleRevokePermissionRequest request;
  request.set_role(std::string(role));
  request.set_key(range.key());
  request.set_range_end(range.range_end());
  return request;
}

AuthStatusResult ParseAuthStatus(etcdserverpb::AuthStatusResponse& response) {
  return AuthStatusResult{.header = ParseHeader(response.header()),
                          .enabled = response.enabled(),
                          .auth_revision = response.authrevision()};
}

UserGetResult ParseUserGet(etcdserverpb::AuthUserGetResponse& response) {
  return UserGetResult{.header = ParseHeader(response.header()),
                       .roles = Strings(response.mutable_roles())};
}

UserListResult ParseUserList(etcdserverpb::AuthUserListResponse& response) {
  return UserListResult{.header = ParseHeader(response.header()),
                        .users = Strings(response.mutable_users())};
}

RoleGetResult ParseRoleGet(etcdserverpb::AuthRoleGetResponse& response) {
  RoleGetResult result{.header = ParseHeader(response.header()), .permissions = {}};
  result.permissions.reserve(response.perm_size());
  for (authpb::Permission& perm : *response.mutable_perm()) {
    // Between() keeps etcd's (key, range_end) as they are: "" is one key, "\0"
    // is open-ended.
    result.permissions.push_back(
        Permission{.type = FromWire(perm.permtype()),
                   .range = KeyRange::Between(std::move(*perm.mutable_key()),
                                              std::move(*perm.mutable_range_end()))});
  }
  return result;
}

RoleListResult ParseRoleList(etcdserverpb::AuthRoleListResponse& response) {
  return RoleListResult{.header = ParseHeader(response.header()),
                        .roles = Strings(response.mutable_roles())};
}

}  // namespace etcdgrpc::internal
