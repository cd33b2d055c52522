// The registry's input checks: instance fields, addresses, UTF-8, and the
// Registrar refusing bad instances and options before anything is sent
// (its client points at a port where nothing listens).
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/registrar.h"
#include "etcdgrpc/registry/service_instance.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::registry {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

ServiceInstance Valid() {
  ServiceInstance instance;
  instance.service = "greeter";
  instance.id = "g1";
  instance.address = "127.0.0.1:50051";
  instance.metadata = {{"zone", "eu-1"}};
  return instance;
}

TEST(RegistryValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Zürich 東京 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("a\x80z"));            // stray continuation byte
}

TEST(RegistryValidationTest, Addresses) {
  for (const char* good : {"127.0.0.1:50051", "localhost:1", "[::1]:443", "host.example:65535"}) {
    EXPECT_THAT(ValidateAddress(good), IsOk()) << good;
  }
  for (const char* bad : {"", "127.0.0.1", ":80", "host:", "host:0", "host:65536", "host:8o",
                          "::1:80", "[::1:80", "a b:80", "grpc://h:80", "host:+80"}) {
    EXPECT_THAT(ValidateAddress(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not host:port")))
        << bad;
  }
}

TEST(RegistryValidationTest, Instances) {
  EXPECT_THAT(ValidateInstance(Valid()), IsOk());
  auto with = [](auto change) {
    ServiceInstance instance = Valid();
    change(instance);
    return ValidateInstance(instance);
  };
  EXPECT_THAT(with([](ServiceInstance& i) { i.service.clear(); }),
              StatusIs(absl::StatusCode::kInvalidArgument, "service name must not be empty"));
  EXPECT_THAT(with([](ServiceInstance& i) { i.id.clear(); }),
              StatusIs(absl::StatusCode::kInvalidArgument, "instance id must not be empty"));
  EXPECT_THAT(with([](ServiceInstance& i) { i.service = "a/b"; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must not contain '/'")));
  EXPECT_THAT(
      with([](ServiceInstance& i) { i.id = "x/y"; }),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("instance id must not contain '/'")));
  EXPECT_THAT(with([](ServiceInstance& i) { i.id = "\xff"; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid UTF-8")));
  EXPECT_THAT(with([](ServiceInstance& i) { i.address = "nowhere"; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not host:port")));
  EXPECT_THAT(with([](ServiceInstance& i) { i.metadata["zone"] = "eu\xC3"; }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metadata value of \"zone\" is not valid UTF-8: \"eu\\xc3\"")));
  EXPECT_THAT(with([](ServiceInstance& i) { i.metadata[""] = "x"; }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("metadata key")));
}

// Bad input is refused before any call: the client never connects.
class RegistrarInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options;
    options.endpoints = {"127.0.0.1:1"};
    options.dial_timeout = absl::ZeroDuration();
    options.request_timeout = absl::Milliseconds(200);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  std::unique_ptr<Client> client_;
};

TEST_F(RegistrarInputTest, RefusesBadInstancesAndOptions) {
  Registrar registrar(*client_);
  ServiceInstance bad = Valid();
  bad.service = "a/b";
  EXPECT_THAT(registrar.Register(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = Valid();
  bad.metadata["v"] = "\xff";
  EXPECT_THAT(registrar.Register(bad), StatusIs(absl::StatusCode::kInvalidArgument));

  Registrar short_ttl(*client_, RegistrarOptions{.ttl = absl::Milliseconds(500)});
  EXPECT_THAT(short_ttl.Register(Valid()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("TTL must be at least 1s, got 500ms")));
  RegistrarOptions backoff;
  backoff.retry_backoff.max = absl::Milliseconds(1);
  EXPECT_THAT(Registrar(*client_, backoff).Register(Valid()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("retry_backoff")));
}

TEST_F(RegistrarInputTest, RefusesValuesAboveTheRequestLimit) {
  Registrar registrar(*client_);
  ServiceInstance big = Valid();
  big.metadata["blob"] = std::string(1600 * 1024, 'x');
  EXPECT_THAT(registrar.Register(big),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("exceed etcd's request limit of 1572864 bytes")));
  Registrar smaller(*client_, RegistrarOptions{.max_request_bytes = 2048});
  big.metadata["blob"] = std::string(2048, 'x');
  EXPECT_THAT(smaller.Register(big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/services/greeter/g1")));
}

TEST_F(RegistrarInputTest, KeysFollowTheCodecAndPrefix) {
  EXPECT_EQ(Registrar(*client_).KeyOf(Valid()), "/services/greeter/g1");
  EXPECT_EQ(Registrar(*client_, {.prefix = "/svc/"}).KeyOf(Valid()), "/svc/greeter/g1");
  EXPECT_EQ(Registrar(*client_, {.codec = KratosCodec()}).KeyOf(Valid()),
            "/microservices/greeter/g1");
  EXPECT_EQ(Registrar(*client_, {.codec = NamingCodec()}).KeyOf(Valid()),
            "greeter/127.0.0.1:50051");
}

}  // namespace
}  // namespace etcdgrpc::registry
