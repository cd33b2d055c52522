// Converts between the typed Auth API (etcdgrpc/auth.h) and etcd's wire
// messages, refusing bad input (empty names, invalid key ranges) before
// anything is sent.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "etcdgrpc/auth.h"
#include "etcdserverpb/rpc.pb.h"
#include "lib/internal/kv_codec.h"

namespace etcdgrpc::internal {

// INVALID_ARGUMENT "<what> must not be empty" for an empty name.
[[nodiscard]] absl::Status CheckName(std::string_view what, std::string_view name);

// Requests that name a user, a role, or both.
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserGetRequest> BuildUserGet(std::string_view name);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserDeleteRequest> BuildUserDelete(
    std::string_view name);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserGrantRoleRequest> BuildGrantRole(
    std::string_view user, std::string_view role);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserRevokeRoleRequest> BuildRevokeRole(
    std::string_view user, std::string_view role);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthRoleAddRequest> BuildRoleAdd(std::string_view name);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthRoleGetRequest> BuildRoleGet(std::string_view name);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthRoleDeleteRequest> BuildRoleDelete(
    std::string_view name);

[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserAddRequest> BuildUserAdd(
    std::string_view name, std::string_view password, const UserAddOptions& options);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthUserChangePasswordRequest> BuildChangePassword(
    std::string_view name, std::string_view password);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthRoleGrantPermissionRequest> BuildGrantPermission(
    std::string_view role, const Permission& permission);
[[nodiscard]] absl::StatusOr<etcdserverpb::AuthRoleRevokePermissionRequest> BuildRevokePermission(
    std::string_view role, const KeyRange& range);

// Every Auth response but the ones below carries only a header.
template <class Response>
[[nodiscard]] ResponseHeader ParseAuthHeader(Response& response) {
  return ParseHeader(response.header());
}
[[nodiscard]] AuthStatusResult ParseAuthStatus(etcdserverpb::AuthStatusResponse& response);
[[nodiscard]] UserGetResult ParseUserGet(etcdserverpb::AuthUserGetResponse& response);
[[nodiscard]] UserListResult ParseUserList(etcdserverpb::AuthUserListResponse& response);
[[nodiscard]] RoleGetResult ParseRoleGet(etcdserverpb::AuthRoleGetResponse& response);
[[nodiscard]] RoleListResult ParseRoleList(etcdserverpb::AuthRoleListResponse& response);

}  // namespace etcdgrpc::internal
