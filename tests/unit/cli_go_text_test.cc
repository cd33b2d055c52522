// Tests of the Go text conventions the CLI reproduces: strconv.Quote,
// strconv.Unquote, strconv.ParseInt messages and fmt %q scanning.
#include <string>

#include "cli/go_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::cli {
namespace {

using ::etcdgrpc::testing::IsOkAndHolds;
using ::etcdgrpc::testing::StatusIs;

TEST(GoQuoteTest, MatchesStrconvQuote) {
  EXPECT_EQ(GoQuote("zz"), R"("zz")");
  EXPECT_EQ(GoQuote(""), R"("")");
  EXPECT_EQ(GoQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuote(std::string("\0\x01\x7f", 3)), R"("\x00\x01\x7f")");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");
  EXPECT_EQ(GoQuote("\xc3\xa9"), "\"\xc3\xa9\"");
  EXPECT_EQ(GoQuote("\xc2\xa0"), R"("\u00a0")");
}

TEST(GoUnquoteTest, DoubleQuoted) {
  EXPECT_THAT(GoUnquote(R"("a\tb")"), IsOkAndHolds("a\tb"));
  EXPECT_THAT(GoUnquote(R"("\x00\xff")"), IsOkAndHolds(std::string("\0\xff", 2)));
  EXPECT_THAT(GoUnquote(R"("\101\u00e9\U0001F600")"), IsOkAndHolds("A\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_THAT(GoUnquote(R"("\"")"), IsOkAndHolds("\""));
}

TEST(GoUnquoteTest, InvalidSyntax) {
  for (const char* bad : {R"("\q")", R"("\'")", R"("\400")", R"("\x1")", R"("\ud800")", "\"a\nb\"",
                          R"("a)", R"('a')", R"("a"b")"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(GoUnquote(bad), StatusIs(absl::StatusCode::kInvalidArgument, "invalid syntax"));
  }
}

TEST(GoUnquoteTest, BackQuotedDropsCarriageReturns) {
  EXPECT_THAT(GoUnquote("`a\\n\rb`"), IsOkAndHolds("a\\nb"));
}

TEST(GoParseIntTest, Values) {
  EXPECT_THAT(GoParseInt("42", 10), IsOkAndHolds(42));
  EXPECT_THAT(GoParseInt("+7", 10), IsOkAndHolds(7));
  EXPECT_THAT(GoParseInt("-9223372036854775808", 10), IsOkAndHolds(INT64_MIN));
  EXPECT_THAT(GoParseInt("694d", 16), IsOkAndHolds(0x694d));
  EXPECT_THAT(GoParseInt("7FFFFFFFFFFFFFFF", 16), IsOkAndHolds(INT64_MAX));
}

TEST(GoParseIntTest, ErrorsReadLikeGo) {
  EXPECT_THAT(GoParseInt("zz", 16), StatusIs(absl::StatusCode::kInvalidArgument,
                                             R"(strconv.ParseInt: parsing "zz": invalid syntax)"));
  EXPECT_THAT(GoParseInt("0x10", 16),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       R"(strconv.ParseInt: parsing "0x10": invalid syntax)"));
  EXPECT_THAT(GoParseInt("", 10), StatusIs(absl::StatusCode::kInvalidArgument,
                                           R"(strconv.ParseInt: parsing "": invalid syntax)"));
  EXPECT_THAT(GoParseInt("1_000", 10),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("invalid syntax")));
  EXPECT_THAT(GoParseInt("ffffffffffffffffff", 16),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       R"(strconv.ParseInt: parsing "ffffffffffffffffff": value out of range)"));
  EXPECT_THAT(GoParseInt("9223372036854775808", 10),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("out of range")));
  // Like Go, overflow is reported before a later bad character is seen.
  EXPECT_THAT(GoParseInt("99999999999999999999x", 10),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("out of range")));
}

TEST(GoScannerTest, ScansLikeSscanf) {
  GoScanner scanner(R"(  "k\x41") =  "v")");
  std::string key, op, value;
  ASSERT_TRUE(scanner.ScanQuoted(&key));
  ASSERT_TRUE(scanner.MatchLiteral(')'));
  ASSERT_TRUE(scanner.MatchSpace());
  ASSERT_TRUE(scanner.ScanWord(&op));
  ASSERT_TRUE(scanner.MatchSpace());
  ASSERT_TRUE(scanner.ScanQuoted(&value));
  EXPECT_EQ(key, "kA");
  EXPECT_EQ(op, "=");
  EXPECT_EQ(value, "v");
}

TEST(GoScannerTest, SpaceInFormatNeedsSpaceOrEnd) {
  GoScanner scanner(">x");
  EXPECT_FALSE(scanner.MatchSpace());
  GoScanner at_end("");
  EXPECT_TRUE(at_end.MatchSpace());
}

TEST(GoScannerTest, InvalidUtf8BecomesReplacementCharacter) {
  GoScanner scanner("\"a\xff\"");
  std::string value;
  ASSERT_TRUE(scanner.ScanQuoted(&value));
  EXPECT_EQ(value, "a\xef\xbf\xbd");
}

TEST(GoScannerTest, UnterminatedOrUnquoted) {
  std::string value;
  GoScanner unterminated(R"("abc)");
  EXPECT_FALSE(unterminated.ScanQuoted(&value));
  GoScanner unquoted("abc");
  EXPECT_FALSE(unquoted.ScanQuoted(&value));
}

TEST(GoTrimSpaceTest, TrimsAsciiWhiteSpace) {
  EXPECT_EQ(GoTrimSpace(" \t\v\f\r\nx y\r\n"), "x y");
  EXPECT_EQ(GoTrimSpace("   "), "");
}

}  // namespace
}  // namespace etcdgrpc::cli
