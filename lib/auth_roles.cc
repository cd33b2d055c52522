// The Auth facade's roles (etcdgrpc/auth.h): roles and the key permissions
// they grant.
#include <utility>

#include "etcdgrpc/auth.h"
#include "lib/internal/auth_calls.h"
#include "lib/internal/auth_codec.h"
#include "lib/internal/client_core.h"

namespace etcdgrpc {

using internal::CallAuth;
using internal::CallAuthAsync;
using internal::ParseAuthHeader;

absl::StatusOr<ResponseHeader> Auth::RoleAdd(std::string_view name) {
  return CallAuth(*core_, internal::kRoleAddRpc, internal::BuildRoleAdd(name),
                  ParseAuthHeader<etcdserverpb::AuthRoleAddResponse>);
}

absl::StatusOr<RoleGetResult> Auth::RoleGet(std::string_view name) {
  return CallAuth(*core_, internal::kRoleGetRpc, internal::BuildRoleGet(name),
                  internal::ParseRoleGet);
}

absl::StatusOr<RoleListResult> Auth::RoleList() {
  return CallAuth(*core_, internal::kRoleListRpc, etcdserverpb::AuthRoleListRequest(),
                  internal::ParseRoleList);
}

absl::StatusOr<ResponseHeader> Auth::RoleDelete(std::string_view name) {
  return CallAuth(*core_, internal::kRoleDeleteRpc, internal::BuildRoleDelete(name),
                  ParseAuthHeader<etcdserverpb::AuthRoleDeleteResponse>);
}

absl::StatusOr<ResponseHeader> Auth::RoleGrantPermission(std::string_view role,
                                                         const Permission& permission) {
  return CallAuth(*core_, internal::kRoleGrantPermissionRpc,
                  internal::BuildGrantPermission(role, permission),
                  ParseAuthHeader<etcdserverpb::AuthRoleGrantPermissionResponse>);
}

absl::StatusOr<ResponseHeader> Auth::RoleRevokePermission(std::string_view role,
                                                          const KeyRange& range) {
  return CallAuth(*core_, internal::kRoleRevokePermissionRpc,
                  internal::BuildRevokePermission(role, range),
                  ParseAuthHeader<etcdserverpb::AuthRoleRevokePermissionResponse>);
}

void Auth::RoleAddAsync(std::string_view name, Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kRoleAddRpc, internal::BuildRoleAdd(name),
                ParseAuthHeader<etcdserverpb::AuthRoleAddResponse>, std::move(done));
}

void Auth::RoleGetAsync(std::string_view name, Callback<RoleGetResult> done) {
  CallAuthAsync(*core_, internal::kRoleGetRpc, internal::BuildRoleGet(name), internal::ParseRoleGet,
                std::move(done));
}

void Auth::RoleListAsync(Callback<RoleListResult> done) {
  CallAuthAsync(*core_, internal::kRoleListRpc, etcdserverpb::AuthRoleListRequest(),
                internal::ParseRoleList, std::move(done));
}

void Auth::RoleDeleteAsync(std::string_view name, Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kRoleDeleteRpc, internal::BuildRoleDelete(name),
                ParseAuthHeader<etcdserverpb::AuthRoleDeleteResponse>, std::move(done));
}

void Auth::RoleGrantPermissionAsync(std::string_view role, const Permission& permission,
                                    Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kRoleGrantPermissionRpc,
                internal::BuildGrantPermission(role, permission),
                ParseAuthHeader<etcdserverpb::AuthRoleGrantPermissionResponse>, std::move(done));
}

void Auth::RoleRevokePermissionAsync(std::string_view role, const KeyRange& range,
                                     Callback<ResponseHeader> done) {
  CallAuthAsync(*core_, internal::kRoleRevokePermissionRpc,
                internal::BuildRevokePermission(role, range),
                ParseAuthHeader<etcdserverpb::AuthRoleRevokePermissionResponse>, std::move(done));
}

}  // namespace etcdgrpc
