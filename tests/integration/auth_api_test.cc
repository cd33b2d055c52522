// The Auth facade (Client::auth()) on a real etcd 3.4: every method sync and
// async, etcd's errors with its message, bad input refused before sending,
// Status() on 3.4, a facade outliving its client; and, each on an etcd of its
// own, authentication switched on and off by a client, permissions enforced on
// a second client logged in as a limited user, and what becomes of a client
// whose own user's password is changed or which is deleted.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::ConnectWith;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Runs an asynchronous call and waits (bounded) for its callback.
template <class T>
absl::StatusOr<T> Await(absl::FunctionRef<void(Callback<T>)> start) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> future = promise->get_future();
  start([promise](absl::StatusOr<T> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return absl::DeadlineExceededError("the callback did not run within 10 s");
  }
  return future.get();
}

// etcd's answer, with the endpoint and method the client names.
auto EtcdError(absl::StatusCode code, const std::string& message, const std::string& method) {
  return StatusIs(code, AllOf(HasSubstr(message), HasSubstr("/etcdserverpb.Auth/" + method)));
}

class AuthApiTest : public SharedEtcdTest {};

TEST_F(AuthApiTest, UsersSyncAndAsync) {
  Auth auth = client_->auth();
  ASSERT_THAT(auth.UserAdd("u-sync", "pw").status(), IsOk());
  EXPECT_THAT(auth.UserAdd("u-sync", "pw").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition,
                        "etcdserver: user name already exists", "UserAdd"));
  EXPECT_EQ(ServerMessage(auth.UserAdd("u-sync", "pw").status()),
            "etcdserver: user name already exists");
  ASSERT_THAT(auth.UserAdd("u-nopass", "", UserAddOptions{.no_password = true}).status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.UserAddAsync("u-async", "pw", {}, std::move(done));
              }).status(),
              IsOk());
  ASSERT_THAT(auth.RoleAdd("r-users").status(), IsOk());

  absl::StatusOr<UserListResult> users = auth.UserList();
  ASSERT_THAT(users.status(), IsOk());
  EXPECT_THAT(users->users, AllOf(Contains("u-sync"), Contains("u-nopass"), Contains("u-async")));
  EXPECT_NE(users->header.cluster_id, 0u);
  absl::StatusOr<UserListResult> async_users = Await<UserListResult>(
      [&](Callback<UserListResult> done) { auth.UserListAsync(std::move(done)); });
  ASSERT_THAT(async_users.status(), IsOk());
  EXPECT_EQ(async_users->users, users->users);

  ASSERT_THAT(auth.UserGrantRole("u-sync", "r-users").status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.UserGrantRoleAsync("u-async", "r-users", std::move(done));
              }).status(),
              IsOk());
  absl::StatusOr<UserGetResult> got = auth.UserGet("u-sync");
  ASSERT_THAT(got.status(), IsOk());
  EXPECT_THAT(got->roles, ElementsAre("r-users"));
  absl::StatusOr<UserGetResult> async_got = Await<UserGetResult>(
      [&](Callback<UserGetResult> done) { auth.UserGetAsync("u-async", std::move(done)); });
  ASSERT_THAT(async_got.status(), IsOk());
  EXPECT_THAT(async_got->roles, ElementsAre("r-users"));
  EXPECT_THAT(auth.UserGrantRole("u-sync", "no-such-role").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition, "etcdserver: role name not found",
                        "UserGrantRole"));

  ASSERT_THAT(auth.UserRevokeRole("u-sync", "r-users").status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.UserRevokeRoleAsync("u-async", "r-users", std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(auth.UserGet("u-sync")->roles, IsEmpty());
  EXPECT_THAT(auth.UserRevokeRole("u-sync", "r-users").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition,
                        "etcdserver: role is not granted to the user", "UserRevokeRole"));

  EXPECT_THAT(auth.UserChangePassword("u-sync", "pw2").status(), IsOk());
  EXPECT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.UserChangePasswordAsync("u-async", "pw2", std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(auth.UserChangePassword("no-such-user", "x").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition, "etcdserver: user name not found",
                        "UserChangePassword"));

  ASSERT_THAT(auth.UserDelete("u-sync").status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.UserDeleteAsync("u-async", std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(auth.UserGet("u-sync").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition, "etcdserver: user name not found",
                        "UserGet"));
  EXPECT_THAT(Await<UserGetResult>([&](Callback<UserGetResult> done) {
                auth.UserGetAsync("u-async", std::move(done));
              }).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("user name not found")));
  EXPECT_THAT(auth.UserDelete("u-sync").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("user name not found")));
  EXPECT_THAT(auth.UserList()->users, AllOf(Not(Contains("u-sync")), Not(Contains("u-async"))));
}

TEST_F(AuthApiTest, RolesAndPermissionsSyncAndAsync) {
  Auth auth = client_->auth();
  ASSERT_THAT(auth.RoleAdd("r-perms").status(), IsOk());
  EXPECT_THAT(auth.RoleAdd("r-perms").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition,
                        "etcdserver: role name already exists", "RoleAdd"));
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.RoleAddAsync("r-async", std::move(done));
              }).status(),
              IsOk());

  const std::vector<Permission> granted = {
      {.type = PermissionType::kRead, .range = KeyRange::Key("k1")},
      {.type = PermissionType::kWrite, .range = KeyRange::Between("k2", "k5")},
      {.type = PermissionType::kReadWrite, .range = KeyRange::Prefix("/p/")},
      {.type = PermissionType::kReadWrite, .range = KeyRange::FromKey("z")},
  };
  for (const Permission& permission : granted) {
    ASSERT_THAT(auth.RoleGrantPermission("r-perms", permission).status(), IsOk());
  }
  // Every key: the permission etcdctl grants for `--prefix ""`.
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.RoleGrantPermissionAsync(
                    "r-async", Permission{.type = PermissionType::kRead, .range = KeyRange::All()},
                    std::move(done));
              }).status(),
              IsOk());

  absl::StatusOr<RoleGetResult> role = auth.RoleGet("r-perms");
  ASSERT_THAT(role.status(), IsOk());
  // etcd's order: by key.
  EXPECT_THAT(role->permissions, ElementsAre(granted[2], granted[0], granted[1], granted[3]));
  absl::StatusOr<RoleGetResult> async_role = Await<RoleGetResult>(
      [&](Callback<RoleGetResult> done) { auth.RoleGetAsync("r-async", std::move(done)); });
  ASSERT_THAT(async_role.status(), IsOk());
  EXPECT_THAT(async_role->permissions,
              ElementsAre(Permission{.type = PermissionType::kRead, .range = KeyRange::All()}));

  absl::StatusOr<RoleListResult> roles = auth.RoleList();
  ASSERT_THAT(roles.status(), IsOk());
  EXPECT_THAT(roles->roles, AllOf(Contains("r-perms"), Contains("r-async")));
  absl::StatusOr<RoleListResult> async_roles = Await<RoleListResult>(
      [&](Callback<RoleListResult> done) { auth.RoleListAsync(std::move(done)); });
  ASSERT_THAT(async_roles.status(), IsOk());
  EXPECT_EQ(async_roles->roles, roles->roles);

  ASSERT_THAT(auth.RoleRevokePermission("r-perms", KeyRange::Prefix("/p/")).status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.RoleRevokePermissionAsync("r-perms", KeyRange::Key("k1"), std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(auth.RoleGet("r-perms")->permissions, ElementsAre(granted[1], granted[3]));
  EXPECT_THAT(
      auth.RoleRevokePermission("r-perms", KeyRange::Key("k1")).status(),
      EtcdError(absl::StatusCode::kFailedPrecondition,
                "etcdserver: permission is not granted to the role", "RoleRevokePermission"));
  // A range whose end is not after its key grants nothing, but etcd keeps it,
  // and it can be revoked like any other.
  ASSERT_THAT(auth.RoleGrantPermission("r-perms", {.type = PermissionType::kRead,
                                                   .range = KeyRange::Between("b", "a")})
                  .status(),
              IsOk());
  EXPECT_THAT(auth.RoleRevokePermission("r-perms", KeyRange::Between("b", "a")).status(), IsOk());

  ASSERT_THAT(auth.RoleDelete("r-perms").status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                auth.RoleDeleteAsync("r-async", std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(auth.RoleGet("r-perms").status(),
              EtcdError(absl::StatusCode::kFailedPrecondition, "etcdserver: role name not found",
                        "RoleGet"));
  EXPECT_THAT(auth.RoleDelete("r-async").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("role name not found")));
  EXPECT_THAT(auth.RoleGrantPermission("r-perms",
                                       {.type = PermissionType::kRead, .range = KeyRange::Key("x")})
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("role name not found")));
}

TEST_F(AuthApiTest, BadInputIsRefusedBeforeSending) {
  Auth auth = client_->auth();
  // Our own words, and no endpoint: nothing reached etcd.
  auto refused = [](const absl::Status& status, const std::string& words) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(words)));
    EXPECT_EQ(ErrorEndpoint(status), std::nullopt) << status;
  };
  const Permission read_x{.type = PermissionType::kRead, .range = KeyRange::Key("x")};
  refused(auth.UserAdd("", "pw").status(), "user name must not be empty");
  refused(auth.UserAdd("u", "pw", {.no_password = true}).status(), "no_password");
  refused(auth.UserGet("").status(), "user name must not be empty");
  refused(auth.UserDelete("").status(), "user name must not be empty");
  refused(auth.UserChangePassword("", "pw").status(), "user name must not be empty");
  refused(auth.UserGrantRole("", "r").status(), "user name must not be empty");
  refused(auth.UserGrantRole("u", "").status(), "role name must not be empty");
  refused(auth.UserRevokeRole("", "r").status(), "user name must not be empty");
  refused(auth.UserRevokeRole("u", "").status(), "role name must not be empty");
  refused(auth.RoleAdd("").status(), "role name must not be empty");
  refused(auth.RoleGet("").status(), "role name must not be empty");
  refused(auth.RoleDelete("").status(), "role name must not be empty");
  refused(auth.RoleGrantPermission("", read_x).status(), "role name must not be empty");
  refused(auth.RoleGrantPermission("r", {.type = PermissionType::kRead, .range = KeyRange::Key("")})
              .status(),
          "permission key must not be empty");
  refused(auth.RoleGrantPermission(
                  "r", {.type = static_cast<PermissionType>(7), .range = KeyRange::Key("x")})
              .status(),
          "unknown permission type 7");
  refused(auth.RoleRevokePermission("", KeyRange::Key("x")).status(),
          "role name must not be empty");
  refused(auth.RoleRevokePermission("r", KeyRange::Key("")).status(),
          "permission key must not be empty");

  // The asynchronous forms answer at once, on this thread.
  bool answered = false;
  auth.UserAddAsync("", "pw", {}, [&](absl::StatusOr<ResponseHeader> result) {
    answered = true;
    refused(result.status(), "user name must not be empty");
  });
  EXPECT_TRUE(answered);
  answered = false;
  auth.RoleGrantPermissionAsync("r", {.type = PermissionType::kRead, .range = KeyRange::Key("")},
                                [&](absl::StatusOr<ResponseHeader> result) {
                                  answered = true;
                                  refused(result.status(), "permission key must not be empty");
                                });
  EXPECT_TRUE(answered);
}

TEST_F(AuthApiTest, StatusIsUnimplementedBeforeEtcd35) {
  Auth auth = client_->auth();
  EXPECT_THAT(auth.Status().status(), StatusIs(absl::StatusCode::kUnimplemented,
                                               HasSubstr("/etcdserverpb.Auth/AuthStatus")));
  EXPECT_THAT(Await<AuthStatusResult>([&](Callback<AuthStatusResult> done) {
                auth.StatusAsync(std::move(done));
              }).status(),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(AuthApiTest, FacadeOutlivingItsClientFailsWithCancelled) {
  std::unique_ptr<Client> client = ConnectTo(etcd_->ClientEndpoints());
  ASSERT_NE(client, nullptr);
  Auth auth = client->auth();
  Auth copy = auth;
  ASSERT_THAT(copy.UserList().status(), IsOk());
  client.reset();
  EXPECT_TRUE(IsClientClosed(auth.UserList().status()));
  EXPECT_TRUE(IsClientClosed(copy.RoleAdd("r-closed").status()));
  EXPECT_TRUE(IsClientClosed(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                               auth.EnableAsync(std::move(done));
                             }).status()));
}

// An etcd of the test's own: authentication switched on there would break
// every other test of the binary.
std::unique_ptr<LocalEtcd> StartOwnEtcd() {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  EXPECT_THAT(etcd.status(), IsOk());
  return etcd.ok() ? *std::move(etcd) : nullptr;
}

std::unique_ptr<Client> ConnectAs(const LocalEtcd& etcd, const std::string& user,
                                  const std::string& password) {
  ClientOptions options;
  options.endpoints = etcd.ClientEndpoints();
  options.username = user;
  options.password = password;
  return ConnectWith(options);
}

TEST(AuthEnableTest, RoundTripWithPermissionsEnforcedOnALimitedUser) {
  std::unique_ptr<LocalEtcd> etcd = StartOwnEtcd();
  ASSERT_NE(etcd, nullptr);
  // Connected while authentication is off: without credentials, and with
  // root's (etcd gives it no token yet).
  std::unique_ptr<Client> anonymous = ConnectTo(etcd->ClientEndpoints());
  ASSERT_NE(anonymous, nullptr);
  Auth setup = anonymous->auth();
  EXPECT_THAT(setup.Enable().status(),
              EtcdError(absl::StatusCode::kFailedPrecondition,
                        "etcdserver: root user does not exist", "AuthEnable"));
  ASSERT_THAT(setup.UserAdd("root", "root-pw").status(), IsOk());
  EXPECT_THAT(setup.Enable().status(),
              EtcdError(absl::StatusCode::kFailedPrecondition,
                        "etcdserver: root user does not have root role", "AuthEnable"));
  ASSERT_THAT(setup.RoleAdd("root").status(), IsOk());
  ASSERT_THAT(setup.UserGrantRole("root", "root").status(), IsOk());
  ASSERT_THAT(setup.RoleAdd("app").status(), IsOk());
  ASSERT_THAT(setup
                  .RoleGrantPermission("app", {.type = PermissionType::kReadWrite,
                                               .range = KeyRange::Prefix("/app/")})
                  .status(),
              IsOk());
  ASSERT_THAT(setup.UserAdd("limited", "limited-pw").status(), IsOk());
  ASSERT_THAT(setup.UserGrantRole("limited", "app").status(), IsOk());
  std::unique_ptr<Client> root = ConnectAs(*etcd, "root", "root-pw");
  ASSERT_NE(root, nullptr);
  ASSERT_THAT(root->Put("/app/before", "1").status(), IsOk());

  // Enabled by the root client itself: its next calls get a token.
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                root->auth().EnableAsync(std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(root->Put("/other/by-root", "1").status(), IsOk());
  EXPECT_THAT(root->auth().UserList().status(), IsOk());
  // Enabling twice is fine with etcd.
  EXPECT_THAT(root->auth().Enable().status(), IsOk());
  // The client without credentials is refused from now on, with etcd's words.
  EXPECT_THAT(
      anonymous->Get("/app/before").status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("etcdserver: user name is empty")));
  EXPECT_THAT(anonymous->auth().UserList().status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user name is empty")));

  // The limited user: its prefix only, its own user and role, nothing else.
  std::unique_ptr<Client> limited = ConnectAs(*etcd, "limited", "limited-pw");
  ASSERT_NE(limited, nullptr);
  Auth limited_auth = limited->auth();
  EXPECT_THAT(limited->Put("/app/mine", "1").status(), IsOk());
  EXPECT_THAT(
      limited->Put("/other/x", "1").status(),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("etcdserver: permission denied")));
  EXPECT_THAT(limited_auth.UserGet("limited")->roles, ElementsAre("app"));
  EXPECT_THAT(limited_auth.RoleGet("app").status(), IsOk());
  for (const absl::Status& status :
       {limited_auth.UserGet("root").status(), limited_auth.RoleGet("root").status(),
        limited_auth.UserList().status(), limited_auth.UserAdd("intruder", "x").status(),
        limited_auth.RoleAdd("intruder").status(), limited_auth.Disable().status()}) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied,
                                 HasSubstr("etcdserver: permission denied")));
  }
  // Permission changes apply at once.
  ASSERT_THAT(root->auth().RoleRevokePermission("app", KeyRange::Prefix("/app/")).status(), IsOk());
  EXPECT_THAT(limited->Put("/app/mine", "2").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(root->auth()
                  .RoleGrantPermission(
                      "app", {.type = PermissionType::kRead, .range = KeyRange::Prefix("/app/")})
                  .status(),
              IsOk());
  EXPECT_THAT(limited->Get("/app/mine").status(), IsOk());
  EXPECT_THAT(limited->Put("/app/mine", "3").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // etcd refuses to take root's role away or to delete root while enabled.
  EXPECT_THAT(root->auth().UserRevokeRole("root", "root").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("etcdserver: invalid auth management")));

  // Disabled: etcd forgets every token; each client goes on (with root's and
  // the limited user's tokens refused once and renewed as "none").
  ASSERT_THAT(root->auth().Disable().status(), IsOk());
  EXPECT_THAT(root->Put("/other/after", "1").status(), IsOk());
  EXPECT_THAT(limited->Put("/other/after-limited", "1").status(), IsOk());
  EXPECT_THAT(anonymous->Get("/other/after").status(), IsOk());
  EXPECT_THAT(anonymous->auth().UserList().status(), IsOk());
  // And on again: the clients with credentials authenticate again by themselves.
  ASSERT_THAT(anonymous->auth().Enable().status(), IsOk());
  EXPECT_THAT(root->Get("/other/after").status(), IsOk());
  EXPECT_THAT(limited->Get("/app/mine").status(), IsOk());
  EXPECT_THAT(limited->Get("/other/after").status(), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(root->auth().Disable().status(), IsOk());
}

TEST(AuthEnableTest, ClientWhoseOwnUserChangesOrIsDeleted) {
  std::unique_ptr<LocalEtcd> etcd = StartOwnEtcd();
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<Client> setup = ConnectTo(etcd->ClientEndpoints());
  ASSERT_NE(setup, nullptr);
  Auth auth = setup->auth();
  ASSERT_THAT(auth.UserAdd("root", "root-pw").status(), IsOk());
  ASSERT_THAT(auth.UserGrantRole("root", "root").status(), IsOk());
  ASSERT_THAT(auth.UserAdd("svc", "svc-pw").status(), IsOk());
  ASSERT_THAT(auth.UserAdd("gone", "gone-pw").status(), IsOk());
  ASSERT_THAT(auth.Enable().status(), IsOk());
  std::unique_ptr<Client> root = ConnectAs(*etcd, "root", "root-pw");
  std::unique_ptr<Client> svc = ConnectAs(*etcd, "svc", "svc-pw");
  std::unique_ptr<Client> gone = ConnectAs(*etcd, "gone", "gone-pw");
  ASSERT_NE(root, nullptr);
  ASSERT_NE(svc, nullptr);
  ASSERT_NE(gone, nullptr);
  ASSERT_THAT(svc->auth().UserGet("svc").status(), IsOk());
  ASSERT_THAT(gone->auth().UserGet("gone").status(), IsOk());

  // Root changes its own password: etcd drops root's tokens, and the client
  // authenticates again with the new password.
  ASSERT_THAT(root->auth().UserChangePassword("root", "root-pw-2").status(), IsOk());
  EXPECT_THAT(root->auth().UserList().status(), IsOk());
  ASSERT_THAT(Await<ResponseHeader>([&](Callback<ResponseHeader> done) {
                root->auth().UserChangePasswordAsync("root", "root-pw-3", std::move(done));
              }).status(),
              IsOk());
  EXPECT_THAT(root->Put("/k", "v").status(), IsOk());
  EXPECT_THAT(Client::Connect([&] {
                ClientOptions options;
                options.endpoints = etcd->ClientEndpoints();
                options.username = "root";
                options.password = "root-pw";
                return options;
              }())
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("authentication failed")));

  // Another client's password changed by root: its next call fails, clearly.
  ASSERT_THAT(root->auth().UserChangePassword("svc", "svc-pw-2").status(), IsOk());
  EXPECT_THAT(svc->auth().UserGet("svc").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("authenticating as user \"svc\""),
                             HasSubstr("etcdserver: authentication failed, invalid user ID or "
                                       "password"))));
  // A deleted user's client likewise.
  ASSERT_THAT(root->auth().UserDelete("gone").status(), IsOk());
  EXPECT_THAT(gone->Get("/k").status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 AllOf(HasSubstr("authenticating as user \"gone\""),
                                                       HasSubstr("authentication failed"))));
  EXPECT_THAT(root->auth().Disable().status(), IsOk());
}

}  // namespace
}  // namespace etcdgrpc
