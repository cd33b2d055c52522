#include "etcdgrpc/types.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kNul("\0", 1);

TEST(PrefixRangeEndTest, IncrementsLastByte) {
  EXPECT_EQ(PrefixRangeEnd("abc"), "abd");
  EXPECT_EQ(PrefixRangeEnd("/services/"), "/services0");
}

TEST(PrefixRangeEndTest, DropsTrailingFfBytes) {
  EXPECT_EQ(PrefixRangeEnd("a\xff"), "b");
  EXPECT_EQ(PrefixRangeEnd("a\xff\xff"), "b");
  EXPECT_EQ(PrefixRangeEnd(std::string("a\x00", 2)), std::string("a\x01", 2));
}

TEST(PrefixRangeEndTest, AllFfMeansEndOfKeyspace) {
  EXPECT_EQ(PrefixRangeEnd("\xff\xff"), kNul);
  EXPECT_EQ(PrefixRangeEnd(""), kNul);
}

TEST(KeyRangeTest, Factories) {
  EXPECT_EQ(KeyRange::Key("k").key(), "k");
  EXPECT_TRUE(KeyRange::Key("k").is_single_key());
  EXPECT_EQ(KeyRange::Prefix("p/").range_end(), "p0");
  EXPECT_EQ(KeyRange::Between("a", "c").range_end(), "c");
  EXPECT_EQ(KeyRange::FromKey("m").range_end(), kNul);
  EXPECT_EQ(KeyRange::All().key(), kNul);
  EXPECT_EQ(KeyRange::All().range_end(), kNul);
  // An empty prefix or from-key covers everything, as in etcdctl.
  EXPECT_EQ(KeyRange::Prefix(""), KeyRange::All());
  EXPECT_EQ(KeyRange::FromKey(""), KeyRange::All());
}

TEST(KeyRangeTest, ValidRangesPass) {
  EXPECT_THAT(KeyRange::Key("k").Validate(), IsOk());
  EXPECT_THAT(KeyRange::Prefix("k").Validate(), IsOk());
  EXPECT_THAT(KeyRange::Between("a", "b").Validate(), IsOk());
  EXPECT_THAT(KeyRange::FromKey("a").Validate(), IsOk());
  EXPECT_THAT(KeyRange::All().Validate(), IsOk());
}

TEST(KeyRangeTest, EmptyKeyIsRefused) {
  EXPECT_THAT(KeyRange::Key("").Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key must not be empty")));
  EXPECT_THAT(KeyRange::Between("", "b").Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyRangeTest, EndNotAfterKeyIsRefused) {
  EXPECT_THAT(KeyRange::Between("b", "a").Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not after key")));
  EXPECT_THAT(KeyRange::Between("b", "b").Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc
