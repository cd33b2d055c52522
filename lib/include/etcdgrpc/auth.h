// etcd's Auth service (Client::auth()): authentication on and off, users,
// roles and the key permissions roles grant, synchronous and asynchronous.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/callback.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

namespace internal {
class ClientCore;
}  // namespace internal

// What a permission allows on its keys (authpb.Permission.Type).
enum class PermissionType { kRead = 0, kWrite = 1, kReadWrite = 2 };

// Access to the keys of `range`: one key (KeyRange::Key), [begin, end)
// (Between), a prefix (Prefix; an empty prefix is every key) or every key from
// one on (FromKey). Its key must not be empty; etcd keeps a range whose end is
// not after its key (it grants nothing), so such a range can be granted and
// revoked like any other.
struct ETCDGRPC_EXPORT Permission {
  PermissionType type;
  KeyRange range;

  friend bool operator==(const Permission&, const Permission&) = default;
};

struct ETCDGRPC_EXPORT UserAddOptions {
  // A user without a password (etcd >= 3.4), which can only authenticate with
  // the common name of a TLS client certificate. No password may be given then.
  bool no_password = false;
};

struct ETCDGRPC_EXPORT AuthStatusResult {
  ResponseHeader header;
  bool enabled = false;
  // Bumped by etcd on every change to users, roles or permissions.
  uint64_t auth_revision = 0;
};

struct ETCDGRPC_EXPORT UserGetResult {
  ResponseHeader header;
  std::vector<std::string> roles;
};

struct ETCDGRPC_EXPORT UserListResult {
  ResponseHeader header;
  std::vector<std::string> users;
};

struct ETCDGRPC_EXPORT RoleGetResult {
  ResponseHeader header;
  // In etcd's order (by key).
  std::vector<Permission> permissions;
};

struct ETCDGRPC_EXPORT RoleListResult {
  ResponseHeader header;
  std::vector<std::string> roles;
};

// The Auth service of a client, from Client::auth(). Copyable and cheap; it
// shares the client's connection, token and time-outs, and may outlive the
// Client: every call then fails with CANCELLED ("the client was closed").
//
// Empty user or role names, a password with no_password and permissions with an
// empty key are INVALID_ARGUMENT before anything is sent. etcd's own refusals come back
// with its message, e.g. FAILED_PRECONDITION "etcdserver: user name already
// exists", "etcdserver: role name not found", "etcdserver: root user does not
// exist" (Enable() without a root user), PERMISSION_DENIED "etcdserver:
// permission denied" (a user without the root role managing others).
//
// Changes this client makes to its own credentials (ClientOptions::username):
// etcd drops the user's tokens, and the client authenticates again on its next
// call. After UserChangePassword of its own user it uses the new password from
// then on; after UserDelete of its own user its calls fail with INVALID_ARGUMENT
// "... authentication failed, invalid user ID or password". After Enable() a
// client without credentials gets etcd's INVALID_ARGUMENT "etcdserver: user name
// is empty"; after Disable() every client goes on without a token.
class ETCDGRPC_EXPORT Auth {
 public:
  // --- Authentication -----------------------------------------------------
  // Turns authentication on; etcd requires the user "root" with the role
  // "root" first (FAILED_PRECONDITION "etcdserver: root user does not exist",
  // "etcdserver: root user does not have root role").
  [[nodiscard]] absl::StatusOr<ResponseHeader> Enable();
  [[nodiscard]] absl::StatusOr<ResponseHeader> Disable();
  // Whether authentication is on. etcd >= 3.5: etcd 3.4 answers UNIMPLEMENTED.
  [[nodiscard]] absl::StatusOr<AuthStatusResult> Status();

  // --- Users --------------------------------------------------------------
  // An empty password is a password, as for etcd 3.4 itself.
  [[nodiscard]] absl::StatusOr<ResponseHeader> UserAdd(std::string_view name,
                                                       std::string_view password,
                                                       const UserAddOptions& options = {});
  // The user's roles.
  [[nodiscard]] absl::StatusOr<UserGetResult> UserGet(std::string_view name);
  [[nodiscard]] absl::StatusOr<UserListResult> UserList();
  [[nodiscard]] absl::StatusOr<ResponseHeader> UserDelete(std::string_view name);
  [[nodiscard]] absl::StatusOr<ResponseHeader> UserChangePassword(std::string_view name,
                                                                  std::string_view password);
  [[nodiscard]] absl::StatusOr<ResponseHeader> UserGrantRole(std::string_view user,
                                                             std::string_view role);
  [[nodiscard]] absl::StatusOr<ResponseHeader> UserRevokeRole(std::string_view user,
                                                              std::string_view role);

  // --- Roles --------------------------------------------------------------
  [[nodiscard]] absl::StatusOr<ResponseHeader> RoleAdd(std::string_view name);
  // The role's permissions.
  [[nodiscard]] absl::StatusOr<RoleGetResult> RoleGet(std::string_view name);
  [[nodiscard]] absl::StatusOr<RoleListResult> RoleList();
  [[nodiscard]] absl::StatusOr<ResponseHeader> RoleDelete(std::string_view name);
  [[nodiscard]] absl::StatusOr<ResponseHeader> RoleGrantPermission(std::string_view role,
                                                                   const Permission& permission);
  // Revokes the permission on exactly `range` (whatever its type); etcd's
  // FAILED_PRECONDITION "etcdserver: permission is not granted to the role" when
  // the role has none on that range.
  [[nodiscard]] absl::StatusOr<ResponseHeader> RoleRevokePermission(std::string_view role,
                                                                    const KeyRange& range);

  // --- Asynchronous forms (bad input: `done` runs at once, on this thread) --
  void EnableAsync(Callback<ResponseHeader> done);
  void DisableAsync(Callback<ResponseHeader> done);
  void StatusAsync(Callback<AuthStatusResult> done);
  void UserAddAsync(std::string_view name, std::string_view password, const UserAddOptions& options,
                    Callback<ResponseHeader> done);
  void UserGetAsync(std::string_view name, Callback<UserGetResult> done);
  void UserListAsync(Callback<UserListResult> done);
  void UserDeleteAsync(std::string_view name, Callback<ResponseHeader> done);
  void UserChangePasswordAsync(std::string_view name, std::string_view password,
                               Callback<ResponseHeader> done);
  void UserGrantRoleAsync(std::string_view user, std::string_view role,
                          Callback<ResponseHeader> done);
  void UserRevokeRoleAsync(std::string_view user, std::string_view role,
                           Callback<ResponseHeader> done);
  void RoleAddAsync(std::string_view name, Callback<ResponseHeader> done);
  void RoleGetAsync(std::string_view name, Callback<RoleGetResult> done);
  void RoleListAsync(Callback<RoleListResult> done);
  void RoleDeleteAsync(std::string_view name, Callback<ResponseHeader> done);
  void RoleGrantPermissionAsync(std::string_view role, const Permission& permission,
                                Callback<ResponseHeader> done);
  void RoleRevokePermissionAsync(std::string_view role, const KeyRange& range,
                                 Callback<ResponseHeader> done);

 private:
  friend class Client;
  explicit Auth(std::shared_ptr<internal::ClientCore> core);

  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace etcdgrpc
