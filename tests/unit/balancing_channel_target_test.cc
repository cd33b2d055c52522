// What a balancing channel dials for an endpoint set (ipv4:/ipv6: targets,
// host names left out, empty sets) and the service config it gives gRPC.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "resolver/internal/channel_target.h"

namespace etcdgrpc::resolver::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

EndpointSet Set(const std::vector<std::string>& addresses) {
  EndpointSet set{.service = "svc", .revision = 7, .endpoints = {}};
  int i = 0;
  for (const std::string& address : addresses) {
    auto endpoint = std::make_shared<Endpoint>();
    endpoint->key = "/services/svc/i" + std::to_string(i++);
    endpoint->instance.address = address;
    set.endpoints.push_back(std::move(endpoint));
  }
  return set;
}

TEST(ChannelTargetTest, Ipv4AddressesSortedOnce) {
  ChannelTarget target =
      BuildChannelTarget(Set({"10.0.0.2:50051", "10.0.0.1:50051", "10.0.0.2:50051"}));
  EXPECT_EQ(target.target, "ipv4:10.0.0.1:50051,10.0.0.2:50051");
  EXPECT_TRUE(target.status.ok());
  EXPECT_TRUE(target.left_out.empty());
}

TEST(ChannelTargetTest, Ipv6Addresses) {
  EXPECT_EQ(BuildChannelTarget(Set({"[::1]:2", "[fe80::1%eth0]:3"})).target,
            "ipv6:[::1]:2,[fe80::1%eth0]:3");
}

TEST(ChannelTargetTest, MixedFamiliesMapIpv4IntoOneIpv6Target) {
  EXPECT_EQ(BuildChannelTarget(Set({"127.0.0.1:1", "[::1]:2"})).target,
            "ipv6:[::1]:2,[::ffff:127.0.0.1]:1");
}

TEST(ChannelTargetTest, HostNamesAreLeftOutAndNamed) {
  ChannelTarget target = BuildChannelTarget(Set({"db.example:1", "10.0.0.1:2", "1.2.3:4"}));
  EXPECT_EQ(target.target, "ipv4:10.0.0.1:2");
  EXPECT_THAT(target.left_out,
              ElementsAre("/services/svc/i0 (db.example:1)", "/services/svc/i2 (1.2.3:4)"));
}

TEST(ChannelTargetTest, OnlyHostNamesIsFailedPrecondition) {
  ChannelTarget target = BuildChannelTarget(Set({"localhost:50051"}));
  EXPECT_EQ(target.target, "");
  EXPECT_EQ(target.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(target.status.message(), HasSubstr("IP addresses only"));
  EXPECT_THAT(target.status.message(), HasSubstr("/services/svc/i0 (localhost:50051)"));
  EXPECT_THAT(target.status.message(), HasSubstr("service \"svc\""));
}

TEST(ChannelTargetTest, EmptySetIsUnavailableNamingTheService) {
  ChannelTarget target = BuildChannelTarget(Set({}));
  EXPECT_EQ(target.target, "");
  EXPECT_EQ(target.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(target.status.message(), HasSubstr("service \"svc\" has no endpoint"));
}

// A record marked NOT_SERVING (registry::NotServingAction::kMark) gets no
// calls through a balancing channel either: the picker's rule.
TEST(ChannelTargetTest, RecordsMarkedNotServingAreLeftOut) {
  EndpointSet set = Set({"10.0.0.1:1", "10.0.0.2:2", "10.0.0.3:3"});
  std::const_pointer_cast<Endpoint>(set.endpoints[1])->instance.metadata["health"] = "NOT_SERVING";
  std::const_pointer_cast<Endpoint>(set.endpoints[2])->instance.metadata["health"] = "SERVING";
  ChannelTarget target = BuildChannelTarget(set);
  EXPECT_EQ(target.target, "ipv4:10.0.0.1:1,10.0.0.3:3");
  EXPECT_TRUE(target.left_out.empty());  // not a host-name problem
}

TEST(ChannelTargetTest, EveryRecordMarkedNotServingIsUnavailable) {
  EndpointSet set = Set({"10.0.0.1:1"});
  std::const_pointer_cast<Endpoint>(set.endpoints[0])->instance.metadata["health"] = "NOT_SERVING";
  ChannelTarget target = BuildChannelTarget(set);
  EXPECT_EQ(target.target, "");
  EXPECT_EQ(target.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(target.status.message(), HasSubstr("marked NOT_SERVING"));
}

TEST(ServiceConfigTest, RoundRobinOnly) {
  absl::StatusOr<std::string> config = ServiceConfigJson({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config, R"({"loadBalancingConfig":[{"round_robin":{}}]})");
}

TEST(ServiceConfigTest, HealthCheckAndRetry) {
  ChannelOptions options;
  options.health_check_service = "greeter \"v1\"";
  options.retry = ChannelRetryPolicy{
      .max_attempts = 4,
      .initial_backoff = absl::Milliseconds(100),
      .max_backoff = absl::Seconds(2),
      .backoff_multiplier = 1.5,
      .retryable_codes = {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::RESOURCE_EXHAUSTED},
      .methods = {"greeter.Greeter", "pkg.S/M"}};
  absl::StatusOr<std::string> config = ServiceConfigJson(options);
  ASSERT_TRUE(config.ok()) << config.status();
  nlohmann::json json = nlohmann::json::parse(*config);
  EXPECT_EQ(json["healthCheckConfig"]["serviceName"], "greeter \"v1\"");
  const nlohmann::json& method = json["methodConfig"][0];
  EXPECT_EQ(method["name"][0], nlohmann::json({{"service", "greeter.Greeter"}}));
  EXPECT_EQ(method["name"][1], nlohmann::json({{"service", "pkg.S"}, {"method", "M"}}));
  EXPECT_EQ(method["retryPolicy"]["maxAttempts"], 4);
  EXPECT_EQ(method["retryPolicy"]["initialBackoff"], "0.1s");
  EXPECT_EQ(method["retryPolicy"]["maxBackoff"], "2s");
  EXPECT_EQ(method["retryPolicy"]["backoffMultiplier"], 1.5);
  EXPECT_EQ(method["retryPolicy"]["retryableStatusCodes"],
            nlohmann::json({"UNAVAILABLE", "RESOURCE_EXHAUSTED"}));
}

TEST(ServiceConfigTest, RetryForEveryMethodHasAnEmptyName) {
  ChannelOptions options;
  options.retry = ChannelRetryPolicy{};
  absl::StatusOr<std::string> config = ServiceConfigJson(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(nlohmann::json::parse(*config)["methodConfig"][0]["name"],
            nlohmann::json::parse("[{}]"));
}

absl::Status RetryError(const ChannelRetryPolicy& retry) {
  ChannelOptions options;
  options.retry = retry;
  return ServiceConfigJson(options).status();
}

TEST(ServiceConfigTest, BadRetryPoliciesAreInvalidArgument) {
  EXPECT_THAT(RetryError({.max_attempts = 0}).message(), HasSubstr("max_attempts is 0"));
  EXPECT_THAT(RetryError({.max_attempts = 1}).message(), HasSubstr("2 to 5"));
  EXPECT_THAT(RetryError({.max_attempts = 6}).message(), HasSubstr("2 to 5"));
  EXPECT_THAT(RetryError({.initial_backoff = absl::Milliseconds(-5)}).message(),
              HasSubstr("backoffs must be positive"));
  EXPECT_THAT(RetryError({.max_backoff = absl::ZeroDuration()}).message(),
              HasSubstr("backoffs must be positive"));
  EXPECT_THAT(RetryError({.backoff_multiplier = 0}).message(), HasSubstr("backoff_multiplier"));
  EXPECT_THAT(RetryError({.retryable_codes = {}}).message(), HasSubstr("no retryable"));
  EXPECT_THAT(RetryError({.retryable_codes = {grpc::StatusCode::OK}}).message(),
              HasSubstr("cannot be retried"));
  EXPECT_THAT(RetryError({.methods = {"a/b/c"}}).message(), HasSubstr("\"a/b/c\""));
  EXPECT_THAT(RetryError({.methods = {"/M"}}).message(), HasSubstr("package.Service"));
  EXPECT_EQ(RetryError({.max_attempts = 0}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServiceConfigTest, NegativeRetireDelay) {
  ChannelOptions options;
  options.retire_delay = absl::Milliseconds(-1);
  EXPECT_EQ(ServiceConfigJson(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServiceConfigTest, HealthServiceNameThatIsNotUtf8) {
  ChannelOptions options;
  options.health_check_service = std::string("\xff\xfe");
  EXPECT_EQ(ServiceConfigJson(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace etcdgrpc::resolver::internal
