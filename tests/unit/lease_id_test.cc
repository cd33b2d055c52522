// Lease ids as etcdctl prints them (common/lease_id.h), and listener calls
// that throw (common/listener_call.h).
#include "common/lease_id.h"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "absl/status/status.h"
#include "common/listener_call.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

TEST(FormatLeaseIdTest, MatchesGoPercent016x) {
  // Go: fmt.Sprintf("%016x", int64(...)).
  EXPECT_EQ(FormatLeaseId(0), "0000000000000000");
  EXPECT_EQ(FormatLeaseId(0x694d7f7c1e2b3a01), "694d7f7c1e2b3a01");
  EXPECT_EQ(FormatLeaseId(255), "00000000000000ff");
  EXPECT_EQ(FormatLeaseId(std::numeric_limits<int64_t>::max()), "7fffffffffffffff");
  EXPECT_EQ(FormatLeaseId(-1), "-000000000000001");
  EXPECT_EQ(FormatLeaseId(std::numeric_limits<int64_t>::min()), "-8000000000000000");
}

TEST(CallListenerTest, AThrowingListenerBecomesAnInternalError) {
  EXPECT_TRUE(CallListener("listener", [] {}).ok());
  const absl::Status standard =
      CallListener("watch listener", [] { throw std::runtime_error("boom"); });
  EXPECT_EQ(standard.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(standard.message(), ::testing::HasSubstr("the watch listener threw: boom"));
  const absl::Status other = CallListener("lease listener", [] { throw 42; });
  EXPECT_EQ(other.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(other.message(), ::testing::HasSubstr("non-standard exception"));
}

}  // namespace
}  // namespace etcdgrpc::internal
