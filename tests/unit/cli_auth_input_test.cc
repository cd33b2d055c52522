// The user and role commands' input handling without an etcd: passwords read
// as etcdctl reads them (speakeasy's prompts, fmt.Scanf("%s")) and the key
// range of grant-permission / revoke-permission (etcdctl's permRange).
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/password_input.h"
#include "cli/perm_range.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::cli {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;

std::string Scan(const std::string& input) {
  std::istringstream in(input);
  return ScanWord(in);
}

TEST(ScanWordTest, ReadsOneWordLikeScanf) {
  EXPECT_EQ(Scan("pw\n"), "pw");
  EXPECT_EQ(Scan("  pw rest\n"), "pw");
  EXPECT_EQ(Scan("pw"), "pw");
  EXPECT_EQ(Scan("pw\r\n"), "pw");
  EXPECT_EQ(Scan("\tp:w\n"), "p:w");
  // Scanf stops at a newline before the word: the password stays empty.
  EXPECT_EQ(Scan("\npw\n"), "");
  EXPECT_EQ(Scan(" \r\npw\n"), "");
  EXPECT_EQ(Scan(""), "");
}

// The prompts and answers of AskNewPassword, with stdout captured.
struct Asked {
  absl::StatusOr<std::string> password;
  std::string out;
};
Asked Ask(const std::string& input) {
  std::istringstream in(input);
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  CommandEnv env(GlobalFlags{}, OutputFormat::kSimple, in, out, stderr);
  Asked asked{AskNewPassword(env, "alice"), ""};
  std::fclose(out);
  asked.out.assign(buffer, size);
  std::free(buffer);
  return asked;
}

TEST(AskNewPasswordTest, AsksTwiceAndTrims) {
  Asked asked = Ask(" secret \r\nsecret\n");
  EXPECT_THAT(asked.password, IsOk());
  EXPECT_EQ(*asked.password, "secret");
  EXPECT_EQ(asked.out, "Password of alice: \nType password of alice again for confirmation: \n");
}

TEST(AskNewPasswordTest, RefusesEmptyAndDifferentPasswords) {
  Asked empty = Ask("\nsecret\n");
  EXPECT_THAT(empty.password.status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty password"));
  EXPECT_EQ(ExitCodeOf(empty.password.status()), kExitBadArgs);
  // Nothing more is asked after an empty answer.
  EXPECT_EQ(empty.out, "Password of alice: \n");
  Asked different = Ask("one\ntwo\n");
  EXPECT_THAT(different.password.status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "given passwords are different"));
  EXPECT_EQ(ExitCodeOf(different.password.status()), kExitBadArgs);
  EXPECT_THAT(Ask("").password.status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

const std::string kNul(1, '\0');

TEST(PermRangeTest, KeysAndEnds) {
  auto range = [](std::vector<std::string> args, bool prefix, bool from_key) {
    absl::StatusOr<PermKeys> keys = PermRange(args, prefix, from_key);
    EXPECT_THAT(keys.status(), IsOk());
    return keys.ok() ? std::vector<std::string>{keys->key, keys->range_end}
                     : std::vector<std::string>{};
  };
  EXPECT_EQ(range({"k"}, false, false), (std::vector<std::string>{"k", ""}));
  EXPECT_EQ(range({"a", "b"}, false, false), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(range({"a", "b", "c"}, false, false), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(range({"/p/"}, true, false), (std::vector<std::string>{"/p/", "/p0"}));
  EXPECT_EQ(range({"\xff"}, true, false), (std::vector<std::string>{"\xff", kNul}));
  EXPECT_EQ(range({"z"}, false, true), (std::vector<std::string>{"z", kNul}));
  // The empty key is "\0"; with a flag, every key; an endkey is then ignored.
  EXPECT_EQ(range({""}, false, false), (std::vector<std::string>{kNul, ""}));
  EXPECT_EQ(range({"", "b"}, false, false), (std::vector<std::string>{kNul, ""}));
  EXPECT_EQ(range({""}, true, false), (std::vector<std::string>{kNul, kNul}));
  EXPECT_EQ(range({""}, false, true), (std::vector<std::string>{kNul, kNul}));
}

TEST(PermRangeTest, EtcdctlsErrors) {
  auto error = [](std::vector<std::string> args, bool prefix, bool from_key) {
    absl::StatusOr<PermKeys> keys = PermRange(args, prefix, from_key);
    EXPECT_EQ(ExitCodeOf(keys.status()), kExitBadArgs);
    return std::string(keys.status().message());
  };
  EXPECT_EQ(error({"a"}, true, true), "--from-key and --prefix flags are mutually exclusive");
  EXPECT_EQ(error({""}, true, true), "--from-key and --prefix flags are mutually exclusive");
  EXPECT_EQ(error({"a", "b"}, true, true), "unexpected endkey argument with --prefix flag");
  EXPECT_EQ(error({"a", "b"}, true, false), "unexpected endkey argument with --prefix flag");
  EXPECT_EQ(error({"a", "b"}, false, true), "unexpected endkey argument with --from-key flag");
}

}  // namespace
}  // namespace etcdgrpc::cli
