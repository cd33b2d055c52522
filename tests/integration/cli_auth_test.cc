// The CLI's user, role and auth commands next to etcdctl 3.4's, byte for byte:
// stdout, stderr and exit code, for every command in every output format, their
// password prompts fed through stdin, their argument errors and etcd's refusals.
// A command that changes something runs with etcdctl first; the change is
// undone through the library, and the same command then runs with etcdgrpc.
// Authentication is switched on only inside AuthEnableDisableLikeEtcdctl, which
// switches it off again (also when it fails: TearDown), on this binary's etcd.
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "cli_runner.h"
#include "cli_suite.h"
#include "etcdgrpc/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::CliSuite;
using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::ConnectWith;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::RunResult;
using Args = std::vector<std::string>;

constexpr char kRootPassword[] = "root-secret";

// etcdctl asks for passwords through speakeasy, which runs `stty -echo` on
// stdin; when stdin is not a terminal (as here) stty complains on stderr.
// etcdgrpc turns echo off itself, and only on a terminal: the one difference.
std::string WithoutSttyLines(const std::string& err) {
  return absl::StrReplaceAll(err,
                             {{"stty: 'standard input': Inappropriate ioctl for device\n", ""}});
}

// Reads one protobuf varint at `at`; false at a malformed end.
bool ReadVarint(const std::string& bytes, size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; at < bytes.size() && shift < 64; shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[at++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// -w protobuf of an answer that is a header alone ({header = 1}): the header's
// fields as text with the revision (field 3) left out; the bytes unchanged when
// they are not such an answer.
std::string HeaderProtoWithoutRevision(const std::string& bytes) {
  size_t at = 0;
  uint64_t length = 0;
  if (bytes.empty() || bytes[at++] != '\x0a' || !ReadVarint(bytes, at, length) ||
      at + length != bytes.size()) {
    return bytes;
  }
  std::string text = "header{";
  while (at < bytes.size()) {
    uint64_t tag = 0;
    uint64_t value = 0;
    if (!ReadVarint(bytes, at, tag) || (tag & 7) != 0 || !ReadVarint(bytes, at, value)) {
      return bytes;
    }
    if (tag >> 3 != 3) absl::StrAppend(&text, tag >> 3, ":", value, " ");
  }
  return text + "}";
}

// Auth answers carry the auth store's revision: json, fields and protobuf.
std::string WithoutRevisions(const std::string& out) {
  std::string text = std::regex_replace(out, std::regex("\"revision\":[0-9]+"), "\"revision\":_");
  text = std::regex_replace(text, std::regex("\"Revision\" : [0-9]+"), "\"Revision\" : _");
  return HeaderProtoWithoutRevision(text);
}

// What a command changed, for ExpectSame.
struct Change {
  // Restores what the command changed (etcdctl's change before etcdgrpc runs).
  std::function<void()> undo;
  // Undo etcdgrpc's change too, so that the next command starts from the
  // same state.
  bool undo_ours = true;
  // A command (run with etcdctl) that shows the state each tool left: its
  // outputs must match as well.
  Args state = {};
};

class CliAuthTest : public CliSuite {
 protected:
  CliAuthTest() : CliSuite("/cli-auth/") {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CliSuite::SetUp());
    if (IsSkipped()) return;
    admin_ = ConnectTo(etcd_->ClientEndpoints());
    ASSERT_NE(admin_, nullptr);
  }

  Auth auth() { return admin_->auth(); }

  // Both tools, the same arguments and input, etcdctl first.
  void ExpectSame(const Args& args, const std::string& input = "", const Change& change = {}) {
    SCOPED_TRACE(absl::StrJoin(args, " ") + (input.empty() ? "" : " <<< " + input));
    RunResult ctl = Ctl(args, input);
    ctl.err = WithoutSttyLines(ctl.err);
    const RunResult ctl_state = change.state.empty() ? RunResult() : Ctl(change.state);
    if (change.undo) change.undo();
    RunResult ours = Cli(args, input);
    const RunResult ours_state = change.state.empty() ? RunResult() : Ctl(change.state);
    if (change.undo && change.undo_ours) change.undo();
    if (change.undo) {
      // etcd's Auth answers carry the auth store's revision, which the undo
      // moved on.
      ctl.out = WithoutRevisions(ctl.out);
      ours.out = WithoutRevisions(ours.out);
    }
    EXPECT_FALSE(ours.timed_out);
    EXPECT_EQ(ours.out, ctl.out) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
    EXPECT_EQ(ours.err, ctl.err);
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
    EXPECT_EQ(ours_state.out, ctl_state.out) << "state after etcdctl and after etcdgrpc";
  }
  void ExpectSame(const Args& args, const std::string& input, std::function<void()> undo) {
    ExpectSame(args, input, Change{.undo = std::move(undo)});
  }

  std::function<void()> DeleteUser(const std::string& name) {
    return [this, name] { EXPECT_THAT(auth().UserDelete(name).status(), IsOk()); };
  }
  std::function<void()> DeleteRole(const std::string& name) {
    return [this, name] { EXPECT_THAT(auth().RoleDelete(name).status(), IsOk()); };
  }

  std::unique_ptr<Client> admin_;
};

TEST_F(CliAuthTest, UserAddLikeEtcdctl) {
  const auto undo = DeleteUser("ua");
  ExpectSame({"user", "add", "ua:pw"}, "", undo);
  ExpectSame({"user", "add", "ua:pw", "-w", "json"}, "", undo);
  ExpectSame({"user", "add", "ua:pw", "-w", "fields"}, "", undo);
  ExpectSame({"user", "add", "ua:pw", "-w", "protobuf"}, "", undo);
  // The user is added, then the format refused.
  ExpectSame({"user", "add", "ua:pw", "-w", "table"}, "", undo);
  ExpectSame({"user", "add", "ua:"}, "", undo);
  ExpectSame({"user", "add", "ua", "--no-password"}, "", undo);
  ExpectSame({"user", "add", "ua:x", "--no-password"}, "", DeleteUser("ua:x"));
  ExpectSame({"user", "add", "ua", "--new-user-password=np"}, "", undo);
  ExpectSame({"user", "add", "ua", "--interactive=false"}, "pw\n", undo);
  ExpectSame({"user", "add", "ua", "--interactive=false"}, "  pw rest\n", undo);
  ExpectSame({"user", "add", "ua", "--interactive=false"}, "\npw\n", undo);
  ExpectSame({"user", "add", "ua", "--interactive=false"}, "", undo);
  // The prompts: twice, trimmed, each answer followed by a newline.
  ExpectSame({"user", "add", "ua"}, "pw\npw\n", undo);
  ExpectSame({"user", "add", "ua"}, " pw \r\npw\n", undo);
  ExpectSame({"user", "add", "ua"}, "pw\nother\n");
  ExpectSame({"user", "add", "ua"}, "");
  ExpectSame({"user", "add", "ua"}, "\n\n");
  ExpectSame({"user", "add", ":pw"});
  ExpectSame({"user", "add", "", "--interactive=false"}, "pw\n");
  ExpectSame({"user", "add", ""}, "pw\npw\n");
  ExpectSame({"user", "add"});
  ExpectSame({"user", "add", "a", "b"});
  ASSERT_THAT(auth().UserAdd("ua-dup", "pw").status(), IsOk());
  ExpectSame({"user", "add", "ua-dup:pw"});
  ExpectSame({"user", "add", "ua-dup", "--interactive=false"}, "pw\n");
}

TEST_F(CliAuthTest, UserGetAndListLikeEtcdctl) {
  ASSERT_THAT(auth().RoleAdd("r-ug-a").status(), IsOk());
  ASSERT_THAT(auth().RoleAdd("r-ug-b").status(), IsOk());
  ASSERT_THAT(auth()
                  .RoleGrantPermission("r-ug-a", {.type = PermissionType::kReadWrite,
                                                  .range = KeyRange::Prefix("/ug/")})
                  .status(),
              IsOk());
  ASSERT_THAT(auth().UserAdd("ug1", "pw").status(), IsOk());
  ASSERT_THAT(auth().UserAdd("ug2", "pw").status(), IsOk());
  ASSERT_THAT(auth().UserGrantRole("ug1", "r-ug-a").status(), IsOk());
  ASSERT_THAT(auth().UserGrantRole("ug1", "r-ug-b").status(), IsOk());
  for (const char* format : {"simple", "json", "table", "fields", "protobuf"}) {
    ExpectSame({"user", "get", "ug1", "-w", format});
    ExpectSame({"user", "get", "ug2", "-w", format});
    ExpectSame({"user", "get", "ug1", "--detail", "-w", format});
    ExpectSame({"user", "get", "ug2", "--detail", "-w", format});
    ExpectSame({"user", "list", "-w", format});
  }
  ExpectSame({"user", "get", "nobody"});
  ExpectSame({"user", "get", "nobody", "--detail"});
  ExpectSame({"user", "get", ""});
  ExpectSame({"user", "get"});
  ExpectSame({"user", "get", "a", "b"});
  ExpectSame({"user", "list", "extra"});
}

TEST_F(CliAuthTest, UserPasswdRolesAndDeleteLikeEtcdctl) {
  ASSERT_THAT(auth().UserAdd("up", "pw").status(), IsOk());
  ExpectSame({"user", "passwd", "up", "--interactive=false"}, "np\n");
  ExpectSame({"user", "passwd", "up"}, "np\nnp\n");
  ExpectSame({"user", "passwd", "up", "--interactive=false", "-w", "json"}, "np\n");
  ExpectSame({"user", "passwd", "up", "--interactive=false", "-w", "fields"}, "np\n");
  ExpectSame({"user", "passwd", "up", "--interactive=false", "-w", "protobuf"}, "np\n");
  ExpectSame({"user", "passwd", "up", "-w", "table"}, "np\nnp\n");
  ExpectSame({"user", "passwd", "up"}, "np\nnp2\n");
  ExpectSame({"user", "passwd", "up"}, "");
  ExpectSame({"user", "passwd", "nobody", "--interactive=false"}, "np\n");
  ExpectSame({"user", "passwd", "", "--interactive=false"}, "np\n");
  ExpectSame({"user", "passwd"});

  ASSERT_THAT(auth().RoleAdd("r-ur").status(), IsOk());
  const auto revoke = [this] { EXPECT_THAT(auth().UserRevokeRole("up", "r-ur").status(), IsOk()); };
  const auto grant = [this] { EXPECT_THAT(auth().UserGrantRole("up", "r-ur").status(), IsOk()); };
  ExpectSame({"user", "grant-role", "up", "r-ur"}, "", revoke);
  ExpectSame({"user", "grant-role", "up", "r-ur", "-w", "json"}, "", revoke);
  ExpectSame({"user", "grant-role", "up", "r-ur", "-w", "fields"}, "", revoke);
  ExpectSame({"user", "grant-role", "up", "r-ur", "-w", "protobuf"}, "", revoke);
  ExpectSame({"user", "grant-role", "up", "r-ur", "-w", "table"}, "", revoke);
  for (const Args& args : std::vector<Args>{{"up", "nothere"},
                                            {"nobody", "r-ur"},
                                            {"", "r-ur"},
                                            {"up", ""},
                                            {"nobody", ""},
                                            {"up"},
                                            {"a", "b", "c"}}) {
    Args full = {"user", "grant-role"};
    full.insert(full.end(), args.begin(), args.end());
    ExpectSame(full);
  }
  grant();
  ExpectSame({"user", "revoke-role", "up", "r-ur"}, "", grant);
  ExpectSame({"user", "revoke-role", "up", "r-ur", "-w", "json"}, "", grant);
  ExpectSame({"user", "revoke-role", "up", "r-ur", "-w", "fields"}, "", grant);
  ExpectSame({"user", "revoke-role", "up", "r-ur", "-w", "protobuf"}, "", grant);
  ExpectSame({"user", "revoke-role", "up", "r-ur", "-w", "table"}, "", grant);
  revoke();
  for (const Args& args : std::vector<Args>{{"up", "r-ur"},
                                            {"up", "nothere"},
                                            {"nobody", "r-ur"},
                                            {"", "r-ur"},
                                            {"up", ""},
                                            {"up"}}) {
    Args full = {"user", "revoke-role"};
    full.insert(full.end(), args.begin(), args.end());
    ExpectSame(full);
  }

  const auto add_again = [this] { EXPECT_THAT(auth().UserAdd("up", "pw").status(), IsOk()); };
  ExpectSame({"user", "delete", "up"}, "", add_again);
  ExpectSame({"user", "delete", "up", "-w", "json"}, "", add_again);
  ExpectSame({"user", "delete", "up", "-w", "fields"}, "", add_again);
  ExpectSame({"user", "delete", "up", "-w", "protobuf"}, "", add_again);
  ExpectSame({"user", "delete", "up", "-w", "table"}, "", add_again);
  ExpectSame({"user", "delete", "nobody"});
  ExpectSame({"user", "delete", ""});
  ExpectSame({"user", "delete"});
}

TEST_F(CliAuthTest, RoleAddGetListDeleteLikeEtcdctl) {
  const auto undo = DeleteRole("ra");
  ExpectSame({"role", "add", "ra"}, "", undo);
  ExpectSame({"role", "add", "ra", "-w", "json"}, "", undo);
  ExpectSame({"role", "add", "ra", "-w", "fields"}, "", undo);
  ExpectSame({"role", "add", "ra", "-w", "protobuf"}, "", undo);
  ExpectSame({"role", "add", "ra", "-w", "table"}, "", undo);
  ASSERT_THAT(auth().RoleAdd("ra").status(), IsOk());
  ExpectSame({"role", "add", "ra"});  // already exists
  ExpectSame({"role", "add", ""});
  ExpectSame({"role", "add"});

  // Every shape of permission `role get` prints.
  ASSERT_THAT(auth().RoleAdd("rg").status(), IsOk());
  for (const Permission& permission : std::vector<Permission>{
           {.type = PermissionType::kRead, .range = KeyRange::Key("k1")},
           {.type = PermissionType::kWrite, .range = KeyRange::Between("k2", "k5")},
           {.type = PermissionType::kReadWrite, .range = KeyRange::Prefix("/p/")},
           {.type = PermissionType::kReadWrite, .range = KeyRange::FromKey("z")},
           {.type = PermissionType::kRead, .range = KeyRange::All()},
           {.type = PermissionType::kWrite, .range = KeyRange::Key(std::string(1, '\0'))},
           {.type = PermissionType::kRead, .range = KeyRange::Between("a", "b")},
           {.type = PermissionType::kRead, .range = KeyRange::Prefix("\xff")},
       }) {
    ASSERT_THAT(auth().RoleGrantPermission("rg", permission).status(), IsOk());
  }
  ASSERT_THAT(auth().RoleAdd("rg-empty").status(), IsOk());
  for (const char* format : {"simple", "json", "table", "fields", "protobuf"}) {
    ExpectSame({"role", "get", "rg", "-w", format});
    ExpectSame({"role", "get", "rg-empty", "-w", format});
    ExpectSame({"role", "list", "-w", format});
  }
  ExpectSame({"role", "get", "nothere"});
  ExpectSame({"role", "get", ""});
  ExpectSame({"role", "get"});
  ExpectSame({"role", "list", "extra"});

  const auto add_again = [this] { EXPECT_THAT(auth().RoleAdd("rg-empty").status(), IsOk()); };
  ExpectSame({"role", "delete", "rg-empty"}, "", add_again);
  ExpectSame({"role", "delete", "rg-empty", "-w", "json"}, "", add_again);
  ExpectSame({"role", "delete", "rg-empty", "-w", "fields"}, "", add_again);
  ExpectSame({"role", "delete", "rg-empty", "-w", "protobuf"}, "", add_again);
  ExpectSame({"role", "delete", "rg-empty", "-w", "table"}, "", add_again);
  ExpectSame({"role", "delete", "nothere"});
  ExpectSame({"role", "delete", ""});
  ExpectSame({"role", "delete"});
}

TEST_F(CliAuthTest, RolePermissionsLikeEtcdctl) {
  ASSERT_THAT(auth().RoleAdd("rp").status(), IsOk());
  // Undone by starting the role afresh.
  const auto reset = [this] {
    EXPECT_THAT(auth().RoleDelete("rp").status(), IsOk());
    EXPECT_THAT(auth().RoleAdd("rp").status(), IsOk());
  };
  for (const Args& args : std::vector<Args>{{"rp", "read", "k1"},
                                            {"rp", "write", "k2", "k5"},
                                            {"rp", "readwrite", "/p/", "--prefix"},
                                            {"rp", "READWRITE", "z", "--from-key"},
                                            {"rp", "Read", "", "--prefix"},
                                            {"rp", "read", "", "--from-key"},
                                            {"rp", "read", ""},
                                            {"rp", "read", "", "b"},
                                            {"rp", "read", "b", "a"},
                                            {"rp", "read", "a", "b", "c"},
                                            {"rp", "read", "k1", "-w", "json"},
                                            {"rp", "read", "k1", "-w", "table"}}) {
    Args full = {"role", "grant-permission"};
    full.insert(full.end(), args.begin(), args.end());
    ExpectSame(full, "", {.undo = reset, .state = {"role", "get", "rp"}});
  }
  for (const Args& args : std::vector<Args>{{"rp", "bad", "k"},
                                            {"rp", "read"},
                                            {"rp"},
                                            {"rp", "read", "a", "--prefix", "--from-key"},
                                            {"rp", "read", "", "--prefix", "--from-key"},
                                            {"rp", "read", "a", "b", "--prefix"},
                                            {"rp", "read", "a", "b", "--from-key"},
                                            {"nothere", "read", "a"},
                                            {"", "read", "a"}}) {
    Args full = {"role", "grant-permission"};
    full.insert(full.end(), args.begin(), args.end());
    ExpectSame(full);
  }

  // Revoking: each permission granted again before etcdctl runs and after.
  struct Revoke {
    Args args;
    Permission granted;
  };
  const std::string nul(1, '\0');
  for (const Revoke& revoke : std::vector<Revoke>{
           {{"rp", "k1"}, {.type = PermissionType::kRead, .range = KeyRange::Key("k1")}},
           {{"rp", "k2", "k5"},
            {.type = PermissionType::kRead, .range = KeyRange::Between("k2", "k5")}},
           {{"rp", "/p/", "--prefix"},
            {.type = PermissionType::kWrite, .range = KeyRange::Prefix("/p/")}},
           {{"rp", "z", "--from-key"},
            {.type = PermissionType::kReadWrite, .range = KeyRange::FromKey("z")}},
           {{"rp", "", "--prefix"}, {.type = PermissionType::kRead, .range = KeyRange::All()}},
           {{"rp", ""}, {.type = PermissionType::kRead, .range = KeyRange::Key(nul)}},
           {{"rp", "k1", "-w", "json"},
            {.type = PermissionType::kRead, .range = KeyRange::Key("k1")}},
           {{"rp", "k1", "-w", "table"},
            {.type = PermissionType::kRead, .range = KeyRange::Key("k1")}}}) {
    const auto grant = [&] {
      EXPECT_THAT(auth().RoleGrantPermission("rp", revoke.granted).status(), IsOk());
    };
    grant();
    Args full = {"role", "revoke-permission"};
    full.insert(full.end(), revoke.args.begin(), revoke.args.end());
    ExpectSame(full, "", {.undo = grant, .state = {"role", "get", "rp"}});
  }
  for (const Args& args : std::vector<Args>{{"rp", "nothere"},
                                            {"nothere", "k"},
                                            {"", "k"},
                                            {"rp"},
                                            {"rp", "a", "b", "--prefix"},
                                            {"rp", "a", "--prefix", "--from-key"}}) {
    Args full = {"role", "revoke-permission"};
    full.insert(full.end(), args.begin(), args.end());
    ExpectSame(full);
  }
}

class CliAuthEnableTest : public CliAuthTest {
 protected:
  // Authentication off again whatever happened, so no other test is refused.
  void TearDown() override {
    if (etcd_ == nullptr || IsSkipped()) return;
    ClientOptions options;
    options.endpoints = etcd_->ClientEndpoints();
    options.username = "root";
    options.password = kRootPassword;
    absl::StatusOr<std::unique_ptr<Client>> root = Client::Connect(options);
    if (root.ok()) (void)(*root)->auth().Disable();
  }
};

TEST_F(CliAuthEnableTest, AuthEnableDisableLikeEtcdctl) {
  ExpectSame({"auth", "enable", "x"});
  ExpectSame({"auth", "disable", "x"});
  ExpectSame({"auth", "disable"});
  // The same line whatever the format.
  ExpectSame({"auth", "disable", "-w", "fields"});
  ExpectSame({"auth", "disable", "-w", "protobuf"});
  ExpectSame({"auth", "enable"});  // no root user
  // A root user without the root role: both tools add the role, grant it and
  // enable; undone as root.
  ASSERT_THAT(auth().UserAdd("root", kRootPassword).status(), IsOk());
  ASSERT_THAT(auth().UserAdd("limited", "limited-pw").status(), IsOk());
  ClientOptions root_options;
  root_options.endpoints = etcd_->ClientEndpoints();
  root_options.username = "root";
  root_options.password = kRootPassword;
  std::unique_ptr<Client> root = ConnectWith(root_options);
  ASSERT_NE(root, nullptr);
  ExpectSame({"auth", "enable", "-w", "json"}, "",
             {.undo =
                  [&] {
                    EXPECT_THAT(root->auth().Disable().status(), IsOk());
                    EXPECT_THAT(root->auth().RoleDelete("root").status(), IsOk());
                  },
              .undo_ours = false});
  absl::StatusOr<UserGetResult> root_user = root->auth().UserGet("root");
  ASSERT_THAT(root_user.status(), IsOk());
  EXPECT_THAT(root_user->roles, ::testing::ElementsAre("root"));

  // Enabled now.
  const std::string as_root = std::string("--user=root:") + kRootPassword;
  ExpectSame({"auth", "enable"});
  ExpectSame({as_root, "auth", "enable"});
  ExpectSame({"auth", "disable"});
  ExpectSame({"user", "list"});
  ExpectSame({"--user=limited:limited-pw", "auth", "disable"});
  ExpectSame({"--user=limited:limited-pw", "user", "get", "root"});
  ExpectSame({"--user=limited:limited-pw", "user", "get", "limited"});
  ExpectSame({"--user=limited:limited-pw", "role", "get", "root"});
  ExpectSame({"--user=limited:limited-pw", "role", "add", "r-denied"});
  ExpectSame({"--user=limited:wrong", "user", "list"});
  ExpectSame({as_root, "user", "list"});
  ExpectSame({as_root, "role", "delete", "root"});
  ExpectSame({as_root, "user", "revoke-role", "root", "root"});
  ExpectSame(
      {as_root, "auth", "disable"}, "",
      {.undo = [&] { EXPECT_THAT(root->auth().Enable().status(), IsOk()); }, .undo_ours = false});
  // Disabled again.
  ExpectSame({"user", "get", "root"});
  ExpectSame({"auth", "disable"});
  EXPECT_THAT(auth().UserDelete("limited").status(), IsOk());
}

}  // namespace
}  // namespace etcdgrpc
