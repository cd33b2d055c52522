// Tests of get/put/del argument handling: the same checks, order, messages and
// exit codes as etcdctl's getGetOp/getPutOp/getDelOp, and the requests built.
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/exit_status.h"
#include "cli/kv_flags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::cli {
namespace {

using ::etcdgrpc::testing::IsOk;

// Parses `args` with the command's flag definitions, as the tool does.
template <class Flags, class Add>
Flags Parse(Add add, std::vector<std::string> args) {
  CLI::App app;
  Flags flags;
  add(app, &flags);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(std::move(reversed));
  return flags;
}

GetFlags Get(std::vector<std::string> args) {
  return Parse<GetFlags>(AddGetFlags, std::move(args));
}
PutFlags Put(std::vector<std::string> args) {
  return Parse<PutFlags>(AddPutFlags, std::move(args));
}
DelFlags Del(std::vector<std::string> args) {
  return Parse<DelFlags>(AddDelFlags, std::move(args));
}

void ExpectFailure(const absl::Status& status, int exit_code, const std::string& text) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ExitCodeOf(status), exit_code) << status;
  EXPECT_EQ(ErrorText(status), text);
}

TEST(GetPlanTest, SingleKey) {
  absl::StatusOr<GetPlan> plan = MakeGetPlan(Get({"k"}));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->range, KeyRange::Key("k"));
  EXPECT_EQ(plan->options.limit, 0);
  EXPECT_EQ(plan->options.revision, 0);
  EXPECT_FALSE(plan->options.serializable);
  EXPECT_EQ(plan->options.sort_order, SortOrder::kNone);
  EXPECT_FALSE(plan->print_value_only);
}

TEST(GetPlanTest, RangesLikeEtcdctl) {
  EXPECT_EQ(MakeGetPlan(Get({"a", "c"}))->range, KeyRange::Between("a", "c"));
  EXPECT_EQ(MakeGetPlan(Get({"a", ""}))->range, KeyRange::Key("a"));
  EXPECT_EQ(MakeGetPlan(Get({"a/", "--prefix"}))->range, KeyRange::Prefix("a/"));
  EXPECT_EQ(MakeGetPlan(Get({"", "--prefix"}))->range, KeyRange::All());
  EXPECT_EQ(MakeGetPlan(Get({"b", "--from-key"}))->range, KeyRange::FromKey("b"));
  EXPECT_EQ(MakeGetPlan(Get({"", "--from-key"}))->range, KeyRange::All());
  // Extra arguments are ignored, as etcdctl does.
  EXPECT_EQ(MakeGetPlan(Get({"a", "c", "z"}))->range, KeyRange::Between("a", "c"));
}

TEST(GetPlanTest, Options) {
  absl::StatusOr<GetPlan> plan =
      MakeGetPlan(Get({"k", "--limit=3", "--rev", "9", "--consistency=s", "--keys-only",
                       "--sort-by=modify", "--order=DESCEND", "--print-value-only"}));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->options.limit, 3);
  EXPECT_EQ(plan->options.revision, 9);
  EXPECT_TRUE(plan->options.serializable);
  EXPECT_TRUE(plan->options.keys_only);
  EXPECT_EQ(plan->options.sort_target, SortTarget::kMod);
  EXPECT_EQ(plan->options.sort_order, SortOrder::kDescend);
  EXPECT_TRUE(plan->print_value_only);
}

TEST(GetPlanTest, KeyAscendIsSentAsNoSort) {
  absl::StatusOr<GetPlan> plan = MakeGetPlan(Get({"k", "--sort-by=KEY", "--order=ascend"}));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->options.sort_order, SortOrder::kNone);
}

TEST(GetPlanTest, NegativeLimitAndRevisionMeanNone) {
  absl::StatusOr<GetPlan> plan = MakeGetPlan(Get({"k", "--limit=-1", "--rev=-5"}));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->options.limit, 0);
  EXPECT_EQ(plan->options.revision, 0);
}

TEST(GetPlanTest, ErrorsMatchEtcdctl) {
  ExpectFailure(MakeGetPlan(Get({})).status(), kExitBadArgs,
                "get command needs one argument as key and an optional argument as range_end");
  ExpectFailure(MakeGetPlan(Get({"a", "--prefix", "--from-key"})).status(), kExitBadArgs,
                "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  ExpectFailure(MakeGetPlan(Get({"a", "b", "--prefix"})).status(), kExitBadArgs,
                "too many arguments, only accept one argument when `--prefix` or `--from-key` is "
                "set");
  ExpectFailure(MakeGetPlan(Get({"a", "--consistency=x"})).status(), kExitBadFeature,
                R"(unknown consistency flag "x")");
  ExpectFailure(MakeGetPlan(Get({"a", "--order=x"})).status(), kExitBadFeature, "bad sort order x");
  ExpectFailure(MakeGetPlan(Get({"a", "--sort-by=x"})).status(), kExitBadFeature,
                "bad sort target x");
  ExpectFailure(MakeGetPlan(Get({""})).status(), kExitError, "etcdserver: key is not provided");
  ExpectFailure(MakeGetPlan(Get({"a", "--keys-only", "--count-only"})).status(), kExitBadArgs,
                "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
}

TEST(GetPlanTest, BadNumberIsAUsageError) {
  absl::Status status = MakeGetPlan(Get({"a", "--limit=x"})).status();
  ExpectFailure(status, kExitError,
                R"(invalid argument "x" for "--limit" flag: strconv.ParseInt: parsing "x": )"
                "invalid syntax");
  EXPECT_TRUE(WantsUsage(status));
}

TEST(EmptyRangeTest, EndNotAfterKey) {
  EXPECT_TRUE(IsEmptyRange(KeyRange::Between("b", "a")));
  EXPECT_TRUE(IsEmptyRange(KeyRange::Between("a", "a")));
  EXPECT_FALSE(IsEmptyRange(KeyRange::Between("a", "b")));
  EXPECT_FALSE(IsEmptyRange(KeyRange::Key("a")));
  EXPECT_FALSE(IsEmptyRange(KeyRange::FromKey("a")));
  EXPECT_FALSE(IsEmptyRange(KeyRange::All()));
}

TEST(PutPlanTest, ValueFromArgumentOrStdin) {
  absl::StatusOr<PutPlan> plan = MakePutPlan(Put({"k", "v", "--prev-kv"}), nullptr);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->key, "k");
  EXPECT_EQ(plan->value, "v");
  EXPECT_TRUE(plan->options.prev_kv);
  std::istringstream in(std::string("x\0y\n", 4));
  plan = MakePutPlan(Put({"k"}), &in);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->value, std::string("x\0y\n", 4));
}

TEST(PutPlanTest, LeaseIsHex) {
  absl::StatusOr<PutPlan> plan = MakePutPlan(Put({"k", "v", "--lease=694d"}), nullptr);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->options.lease, 0x694d);
}

TEST(PutPlanTest, IgnoreFlags) {
  absl::StatusOr<PutPlan> plan = MakePutPlan(Put({"k", "--ignore-value"}), nullptr);
  ASSERT_THAT(plan, IsOk());
  EXPECT_TRUE(plan->options.ignore_value);
  EXPECT_EQ(plan->value, "");
  plan = MakePutPlan(Put({"k", "v", "--ignore-lease"}), nullptr);
  ASSERT_THAT(plan, IsOk());
  EXPECT_TRUE(plan->options.ignore_lease);
}

TEST(PutPlanTest, ErrorsMatchEtcdctl) {
  constexpr char kNeedsArgs[] = "put command needs 1 argument and input from stdin or 2 arguments";
  ExpectFailure(MakePutPlan(Put({}), nullptr).status(), kExitBadArgs, kNeedsArgs);
  std::istringstream empty;
  ExpectFailure(MakePutPlan(Put({"k"}), &empty).status(), kExitBadArgs, kNeedsArgs);
  ExpectFailure(MakePutPlan(Put({"k", "v", "--ignore-value"}), nullptr).status(), kExitBadArgs,
                "put command needs only 1 argument when 'ignore-value' is set");
  ExpectFailure(MakePutPlan(Put({"k", "v", "--lease=0x10"}), nullptr).status(), kExitBadArgs,
                R"(bad lease ID (strconv.ParseInt: parsing "0x10": invalid syntax), expecting ID )"
                "in Hex");
  ExpectFailure(MakePutPlan(Put({"", "v"}), nullptr).status(), kExitError,
                "etcdserver: key is not provided");
  ExpectFailure(MakePutPlan(Put({"k", "v", "--lease=-1"}), nullptr).status(), kExitError,
                "etcdserver: requested lease not found");
}

TEST(DeletePlanTest, Ranges) {
  EXPECT_EQ(MakeDeletePlan(Del({"k"}))->range, KeyRange::Key("k"));
  EXPECT_EQ(MakeDeletePlan(Del({"a", "c"}))->range, KeyRange::Between("a", "c"));
  EXPECT_EQ(MakeDeletePlan(Del({"a/", "--prefix"}))->range, KeyRange::Prefix("a/"));
  EXPECT_EQ(MakeDeletePlan(Del({"", "--prefix"}))->range, KeyRange::All());
  EXPECT_EQ(MakeDeletePlan(Del({"b", "--from-key"}))->range, KeyRange::FromKey("b"));
  EXPECT_TRUE(MakeDeletePlan(Del({"k", "--prev-kv"}))->options.prev_kv);
}

TEST(DeletePlanTest, ErrorsMatchEtcdctl) {
  constexpr char kNeedsArgs[] =
      "del command needs one argument as key and an optional argument as range_end";
  ExpectFailure(MakeDeletePlan(Del({})).status(), kExitBadArgs, kNeedsArgs);
  ExpectFailure(MakeDeletePlan(Del({"a", "b", "c"})).status(), kExitBadArgs, kNeedsArgs);
  ExpectFailure(MakeDeletePlan(Del({"a", "--prefix", "--from-key"})).status(), kExitBadArgs,
                "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  ExpectFailure(MakeDeletePlan(Del({"a", "b", "--prefix"})).status(), kExitBadArgs,
                "too many arguments, only accept one argument when `--prefix` or `--from-key` is "
                "set");
  ExpectFailure(MakeDeletePlan(Del({""})).status(), kExitError, "etcdserver: key is not provided");
}

}  // namespace
}  // namespace etcdgrpc::cli
