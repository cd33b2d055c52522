#include "lib/internal/endpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::internal {
namespace {

using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseEndpointTest, AcceptsHostPort) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("127.0.0.1:2379");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 2379);
  EXPECT_FALSE(e->https);
  EXPECT_EQ(e->address, "127.0.0.1:2379");
}

TEST(ParseEndpointTest, AcceptsSchemesLikeEtcdctl) {
  EXPECT_EQ(ParseEndpoint("http://localhost:2379")->address, "localhost:2379");
  absl::StatusOr<Endpoint> e = ParseEndpoint("https://etcd.example:2379");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->https);
  EXPECT_EQ(e->address, "etcd.example:2379");
}

TEST(ParseEndpointTest, AcceptsBracketedIpv6) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("[::1]:2379");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->address, "[::1]:2379");
}

TEST(ParseEndpointTest, RefusesMalformed) {
  EXPECT_THAT(ParseEndpoint("localhost"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing port")));
  EXPECT_THAT(ParseEndpoint(":2379"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing host")));
  EXPECT_THAT(ParseEndpoint("http//x"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("malformed endpoint \"http//x\"")));
  EXPECT_THAT(ParseEndpoint("localhost:0"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEndpoint("localhost:65536"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEndpoint("localhost:http"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEndpoint("::1:2379"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("brackets")));
  EXPECT_THAT(ParseEndpoint("http://h:1/path"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEndpoint(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc::internal
