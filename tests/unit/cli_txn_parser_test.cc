// Tests of the `etcdgrpc txn` syntax parser against etcdctl's rules: compares
// (Go %q scanning), operation lines (argify quoting + put/get/del flags) and
// the three blank-line-terminated sections.
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_status.h"
#include "cli/txn_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::cli {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The exit code and "Error:" text a failed parse would produce.
struct Failure {
  int exit_code;
  std::string text;
};

Failure FailureOf(const absl::Status& status) { return {ExitCodeOf(status), ErrorText(status)}; }

void ExpectFailure(const absl::Status& status, int exit_code, const std::string& text) {
  ASSERT_FALSE(status.ok());
  Failure failure = FailureOf(status);
  EXPECT_EQ(failure.exit_code, exit_code) << failure.text;
  EXPECT_EQ(failure.text, text);
}

TEST(ArgifyTest, SplitsOnWhiteSpace) {
  auto args = Argify("put  k1\tv1 ");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k1", "v1"));
}

TEST(ArgifyTest, DoubleQuotesTakeGoEscapes) {
  auto args = Argify(R"(put "k 5" "x\ty\x00\xff\u00e9\101")");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k 5",
                                 std::string("x\ty\0\xff\xc3\xa9"
                                             "A",
                                             8)));
}

TEST(ArgifyTest, EscapedQuoteStaysInside) {
  auto args = Argify(R"(put k "a \"b\" c")");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k", "a \"b\" c"));
}

TEST(ArgifyTest, SingleQuotesTakeTextAsIs) {
  // etcdctl 3.4 cuts this to "c" (a slicing bug fixed in 3.5); we follow 3.5.
  auto args = Argify(R"(put k4 'c d\n')");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k4", "c d\\n"));
}

TEST(ArgifyTest, EmptyQuotedStringsAreArguments) {
  auto args = Argify(R"(put k "")");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k", ""));
  args = Argify("put k ''");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k", ""));
}

TEST(ArgifyTest, QuotesInsideAWordAreKept) {
  auto args = Argify(R"(put k7 abc"def")");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k7", "abc\"def\""));
}

TEST(ArgifyTest, UnterminatedQuoteIsSkipped) {
  // The regexp matches nothing at the lone quote and moves on.
  auto args = Argify(R"(put k "abc)");
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(*args, ElementsAre("put", "k", "abc"));
}

TEST(ArgifyTest, BadEscapeIsInvalidInput) {
  ExpectFailure(Argify(R"(get "\q" x)").status(), kExitInvalidInput, "invalid syntax");
  // \' is not an escape inside double quotes in Go.
  ExpectFailure(Argify(R"(get "\'" x)").status(), kExitInvalidInput, "invalid syntax");
}

TEST(ParseCompareTest, AllTargets) {
  struct Case {
    std::string line;
    CompareTarget target;
    CompareResult result;
    int64_t number;
    std::string value;
  };
  const std::vector<Case> cases = {
      {R"(mod("key1") > "0")", CompareTarget::kModRevision, CompareResult::kGreater, 0, ""},
      {R"(m("key1") < "12")", CompareTarget::kModRevision, CompareResult::kLess, 12, ""},
      {R"(ver("k") = "0")", CompareTarget::kVersion, CompareResult::kEqual, 0, ""},
      {R"(version("k") != "3")", CompareTarget::kVersion, CompareResult::kNotEqual, 3, ""},
      {R"(c("k") = "-1")", CompareTarget::kCreateRevision, CompareResult::kEqual, -1, ""},
      {R"(create("k") < "5")", CompareTarget::kCreateRevision, CompareResult::kLess, 5, ""},
      {R"(lease("k") = "694d")", CompareTarget::kLease, CompareResult::kEqual, 0x694d, ""},
      {R"(val("k") = "v")", CompareTarget::kValue, CompareResult::kEqual, 0, "v"},
      {R"(value("k") > "a b")", CompareTarget::kValue, CompareResult::kGreater, 0, "a b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    absl::StatusOr<Compare> compare = ParseCompare(c.line);
    ASSERT_THAT(compare, IsOk());
    EXPECT_EQ(compare->target, c.target);
    EXPECT_EQ(compare->result, c.result);
    EXPECT_EQ(compare->range,
              KeyRange::Key(c.line.find("key1") != std::string::npos ? "key1" : "k"));
    EXPECT_EQ(compare->number, c.number);
    EXPECT_EQ(compare->value, c.value);
  }
}

TEST(ParseCompareTest, QuotingAndSpacing) {
  absl::StatusOr<Compare> compare = ParseCompare(R"(value( "k\x00\xff" )   =   "\n")");
  // A space before ')' does not match the format's literal ')'.
  ExpectFailure(
      compare.status(), kExitInvalidInput,
      R"(malformed comparison: value( "k\x00\xff" )   =   "\n"; got value("k\x00\xff")  "")");
  compare = ParseCompare(R"(value( "k\x00\xff")   =   "\n" ignored)");
  ASSERT_THAT(compare, IsOk());
  EXPECT_EQ(compare->range.key(), std::string("k\0\xff", 3));
  EXPECT_EQ(compare->value, "\n");
  compare = ParseCompare("mod(`raw\\n`) > `7`");
  ASSERT_THAT(compare, IsOk());
  EXPECT_EQ(compare->range.key(), "raw\\n");
  EXPECT_EQ(compare->number, 7);
}

TEST(ParseCompareTest, MalformedMessagesMatchEtcdctl) {
  // Texts and codes observed from etcdctl 3.4.23.
  ExpectFailure(ParseCompare("nope").status(), kExitInvalidInput, "malformed comparison: nope");
  ExpectFailure(ParseCompare(R"(mod("k2")>"0")").status(), kExitInvalidInput,
                R"(malformed comparison: mod("k2")>"0"; got mod("k2")  "")");
  ExpectFailure(ParseCompare(R"(mod("k2") > 0)").status(), kExitInvalidInput,
                R"(malformed comparison: mod("k2") > 0; got mod("k2") > "")");
  ExpectFailure(ParseCompare(R"(mod(k2) > "0")").status(), kExitInvalidInput,
                R"(malformed comparison: mod(k2) > "0"; got mod("")  "")");
  ExpectFailure(ParseCompare(R"(foo("k2") > "0")").status(), kExitInvalidInput,
                R"(malformed comparison: foo("k2") > "0" (unknown target foo))");
  ExpectFailure(ParseCompare(R"(mod ("k2") > "0")").status(), kExitInvalidInput,
                R"(malformed comparison: mod ("k2") > "0" (unknown target mod ))");
  ExpectFailure(ParseCompare(R"(mod("k2") > "x")").status(), kExitInvalidInput,
                R"(invalid txn compare request: mod("k2") > "x")");
  // Lease operands are hexadecimal, revisions decimal.
  ExpectFailure(ParseCompare(R"(mod("k2") > "ff")").status(), kExitInvalidInput,
                R"(invalid txn compare request: mod("k2") > "ff")");
  EXPECT_THAT(ParseCompare(R"(lease("k2") > "ff")"), IsOk());
}

TEST(ParseCompareTest, UnknownOperatorIsAnErrorNotAPanic) {
  ExpectFailure(ParseCompare(R"(mod("k") >= "0")").status(), kExitInvalidInput,
                R"(malformed comparison: mod("k") >= "0" (unknown operator >=))");
}

TEST(ParseTxnOpTest, Put) {
  absl::StatusOr<Op> op = ParseTxnOp(R"(put k1 "overwrote-key1" --prev-kv --lease=694d)");
  ASSERT_THAT(op, IsOk());
  const auto* put = std::get_if<PutOp>(&op->op);
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->key, "k1");
  EXPECT_EQ(put->value, "overwrote-key1");
  EXPECT_TRUE(put->options.prev_kv);
  EXPECT_EQ(put->options.lease, 0x694d);
}

TEST(ParseTxnOpTest, GetWithFlags) {
  absl::StatusOr<Op> op = ParseTxnOp("get k --prefix --limit=2 --keys-only --consistency=s");
  ASSERT_THAT(op, IsOk());
  const auto* get = std::get_if<RangeOp>(&op->op);
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->range, KeyRange::Prefix("k"));
  EXPECT_EQ(get->options.limit, 2);
  EXPECT_TRUE(get->options.keys_only);
  EXPECT_TRUE(get->options.serializable);
}

TEST(ParseTxnOpTest, GetRangeAndFromKey) {
  absl::StatusOr<Op> op = ParseTxnOp("get a c");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(std::get<RangeOp>(op->op).range, KeyRange::Between("a", "c"));
  op = ParseTxnOp(R"(get "" --from-key)");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(std::get<RangeOp>(op->op).range, KeyRange::All());
}

TEST(ParseTxnOpTest, Del) {
  absl::StatusOr<Op> op = ParseTxnOp("del k --prefix --prev-kv");
  ASSERT_THAT(op, IsOk());
  const auto* del = std::get_if<DeleteOp>(&op->op);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->range, KeyRange::Prefix("k"));
  EXPECT_TRUE(del->options.prev_kv);
}

TEST(ParseTxnOpTest, ErrorsMatchEtcdctl) {
  ExpectFailure(ParseTxnOp("get").status(), kExitInvalidInput, "invalid txn compare request: get");
  ExpectFailure(ParseTxnOp("foo k").status(), kExitInvalidInput, "invalid txn request: foo k");
  ExpectFailure(ParseTxnOp("get k --bogus").status(), kExitInvalidInput,
                "invalid txn request: get k --bogus");
  ExpectFailure(ParseTxnOp("get k --limit=x").status(), kExitInvalidInput,
                "invalid txn request: get k --limit=x");
  ExpectFailure(ParseTxnOp("get k -w json").status(), kExitInvalidInput,
                "invalid txn request: get k -w json");
  ExpectFailure(ParseTxnOp("put k").status(), kExitBadArgs,
                "put command needs 1 argument and input from stdin or 2 arguments");
  ExpectFailure(
      ParseTxnOp("put k v --lease=zz").status(), kExitBadArgs,
      R"(bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex)");
  ExpectFailure(ParseTxnOp("get k --consistency=x").status(), kExitBadFeature,
                R"(unknown consistency flag "x")");
  ExpectFailure(ParseTxnOp(R"(get "\q" x)").status(), kExitInvalidInput, "invalid syntax");
}

TEST(ReadTxnTest, ThreeSections) {
  std::istringstream in(
      "mod(\"key1\") > \"0\"\n"
      "  value(\"k\") = \"v\"  \r\n"
      "\n"
      "put key1 \"overwrote-key1\"\n"
      "\n"
      "put key1 \"created-key1\"\n"
      "put key2 \"some extra key\"\n"
      "\n");
  absl::StatusOr<TxnRequest> txn = ReadTxn(in);
  ASSERT_THAT(txn, IsOk());
  EXPECT_EQ(txn->compares.size(), 2u);
  EXPECT_EQ(txn->success.size(), 1u);
  EXPECT_EQ(txn->failure.size(), 2u);
  EXPECT_EQ(std::get<PutOp>(txn->failure[1].op).value, "some extra key");
}

TEST(ReadTxnTest, EmptyTransaction) {
  std::istringstream in("\n\n\n");
  absl::StatusOr<TxnRequest> txn = ReadTxn(in);
  ASSERT_THAT(txn, IsOk());
  EXPECT_THAT(txn->compares, IsEmpty());
  EXPECT_THAT(txn->success, IsEmpty());
  EXPECT_THAT(txn->failure, IsEmpty());
}

TEST(ReadTxnTest, InputEndingBeforeTheLastBlankLineIsEof) {
  // etcdctl needs every section closed by a blank line; a last line without
  // newline fails too.
  for (const char* input :
       {"", "\n\n", "mod(\"k\") > \"0\"", "\nput k v\n\nput k w\n", "\n\nput k v"}) {
    SCOPED_TRACE(input);
    std::istringstream in(input);
    ExpectFailure(ReadTxn(in).status(), kExitInvalidInput, "EOF");
  }
}

TEST(ReadTxnTest, PromptsBeforeEachSection) {
  std::istringstream in("\nput k v\n\n\n");
  std::vector<std::string> prompts;
  absl::StatusOr<TxnRequest> txn =
      ReadTxn(in, [&](std::string_view prompt) { prompts.emplace_back(prompt); });
  ASSERT_THAT(txn, IsOk());
  EXPECT_THAT(prompts, ElementsAre("compares:", "success requests (get, put, del):",
                                   "failure requests (get, put, del):"));
}

TEST(ReadTxnTest, FirstErrorWins) {
  std::istringstream in("mod(\"k\") > \"x\"\n\nfoo\n\n\n");
  ExpectFailure(ReadTxn(in).status(), kExitInvalidInput,
                R"(invalid txn compare request: mod("k") > "x")");
}

}  // namespace
}  // namespace etcdgrpc::cli
