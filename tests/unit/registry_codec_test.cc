// The registry's codecs: keys, exact values, round trips, and decoding the
// literal values the Go projects write (go-kratos' etcd registry, etcd's
// clientv3/naming GRPCResolver and client/v3/naming/endpoints manager,
// go-zero's core/discov Publisher).
#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "etcdgrpc/registry/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::registry {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::HasSubstr;

ServiceInstance Greeter() {
  ServiceInstance instance;
  instance.service = "greeter";
  instance.id = "g1";
  instance.address = "127.0.0.1:50051";
  instance.metadata = {{"zone", "eu-1"}, {"weight", "10"}};
  return instance;
}

TEST(RegistryCodecTest, JoinKey) {
  EXPECT_EQ(JoinKey("/services", "a"), "/services/a");
  EXPECT_EQ(JoinKey("/services/", "a"), "/services/a");
  EXPECT_EQ(JoinKey("", "a"), "a");
  EXPECT_EQ(JoinKey("/", "a"), "/a");
}

TEST(RegistryCodecTest, CodecByName) {
  for (const char* name : {"native", "kratos", "naming", "gozero", "hostport"}) {
    absl::StatusOr<std::shared_ptr<const Codec>> codec = CodecByName(name);
    ASSERT_THAT(codec, IsOk());
    EXPECT_EQ((*codec)->name(), name);
  }
  ServiceInstance instance = Greeter();
  absl::StatusOr<std::shared_ptr<const Codec>> grpcs = CodecByName("kratos-grpcs");
  ASSERT_THAT(grpcs, IsOk());
  EXPECT_EQ((*grpcs)->name(), "kratos");
  EXPECT_THAT(*(*grpcs)->Encode(instance), HasSubstr(R"(["grpcs://127.0.0.1:50051"])"));
  absl::StatusOr<std::shared_ptr<const Codec>> bare = CodecByName("naming-no-metadata");
  ASSERT_THAT(bare, IsOk());
  EXPECT_EQ((*bare)->name(), "naming");
  EXPECT_EQ(*(*bare)->Encode(instance), R"({"Op":0,"Addr":"127.0.0.1:50051","Metadata":null})");
  EXPECT_THAT(CodecByName("consul"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown codec \"consul\" (native, kratos, kratos-grpcs, naming, "
                                 "naming-no-metadata, gozero or hostport)")));
}

// --- native -----------------------------------------------------------------

TEST(RegistryCodecTest, NativeKeyAndExactValue) {
  auto codec = NativeCodec();
  EXPECT_EQ(codec->default_prefix(), "/services");
  ServiceInstance instance = Greeter();
  EXPECT_EQ(codec->Key("/services", instance), "/services/greeter/g1");
  EXPECT_EQ(codec->ServicePrefix("/services", "greeter"), "/services/greeter/");
  instance.registered_at = absl::FromUnixMillis(1714566896789);  // 2024-05-01T12:34:56.789Z
  EXPECT_EQ(
      *codec->Encode(instance),
      R"({"service":"greeter","id":"g1","address":"127.0.0.1:50051",)"
      R"("metadata":{"weight":"10","zone":"eu-1"},"registered_at":"2024-05-01T12:34:56.789Z"})");
}

TEST(RegistryCodecTest, NativeRoundTrip) {
  auto codec = NativeCodec();
  ServiceInstance instance = Greeter();
  instance.metadata["tags"] = "a,b";
  instance.metadata["name"] = "Zürich \"quoted\" <b>";
  instance.registered_at = absl::FromUnixMillis(1714566896789);
  absl::StatusOr<std::string> value = codec->Encode(instance);
  ASSERT_THAT(value, IsOk());
  EXPECT_THAT(codec->Decode("greeter", "/services/greeter/g1", *value),
              ::etcdgrpc::testing::IsOkAndHolds(instance));
  // Without registered_at the field is left out and decodes as unknown.
  instance.registered_at = absl::InfinitePast();
  value = codec->Encode(instance);
  EXPECT_THAT(*value, ::testing::Not(HasSubstr("registered_at")));
  EXPECT_THAT(codec->Decode("", "/services/greeter/g1", *value),
              ::etcdgrpc::testing::IsOkAndHolds(instance));
}

TEST(RegistryCodecTest, NativeRejectsBadValuesNamingTheKey) {
  auto codec = NativeCodec();
  const std::string key = "/services/greeter/g1";
  EXPECT_THAT(codec->Decode("greeter", key, "not json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("registry value at /services/greeter/g1 is not valid JSON")));
  EXPECT_THAT(codec->Decode("greeter", key, "{\"service\":"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(codec->Decode("greeter", key, "[1,2]"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(codec->Decode("greeter", key, R"({"service":"greeter","id":"g1"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no \"address\"")));
  EXPECT_THAT(codec->Decode("greeter", key, R"({"service":"greeter","id":"g1","address":7})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a string")));
  EXPECT_THAT(codec->Decode("other", key, R"({"service":"greeter","id":"g1","address":"h:1"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not \"other\"")));
  EXPECT_THAT(codec->Decode("greeter", key,
                            R"({"service":"greeter","id":"g1","address":"h:1","metadata":"x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an object")));
  EXPECT_THAT(codec->Decode("greeter", key,
                            R"({"service":"greeter","id":"g1","address":"h:1",)"
                            R"("registered_at":"yesterday"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not RFC 3339")));
  // Invalid UTF-8 inside a JSON string.
  EXPECT_THAT(codec->Decode("greeter", key, "{\"service\":\"\xff\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
}

TEST(RegistryCodecTest, NativeReadsNonStringMetadataAsJsonText) {
  absl::StatusOr<ServiceInstance> instance = NativeCodec()->Decode(
      "greeter", "/services/greeter/g1",
      R"({"service":"greeter","id":"g1","address":"h:1","metadata":{"weight":5,"on":true}})");
  ASSERT_THAT(instance, IsOk());
  EXPECT_EQ(instance->metadata,
            (std::map<std::string, std::string>{{"weight", "5"}, {"on", "true"}}));
}

// --- Kratos -----------------------------------------------------------------

TEST(RegistryCodecTest, KratosKeyAndExactValue) {
  auto codec = KratosCodec();
  EXPECT_EQ(codec->default_prefix(), "/microservices");
  ServiceInstance instance = Greeter();
  instance.metadata["version"] = "v1.0.0";
  EXPECT_EQ(codec->Key("/microservices", instance), "/microservices/greeter/g1");
  // What Go's json.Marshal writes for Kratos' registry.ServiceInstance{ID:
  // "g1", Name: "greeter", Version: "v1.0.0", Metadata: {"weight": "10",
  // "zone": "eu-1"}, Endpoints: ["grpc://127.0.0.1:50051"]}.
  EXPECT_EQ(*codec->Encode(instance),
            R"({"id":"g1","name":"greeter","version":"v1.0.0","metadata":{"weight":"10",)"
            R"("zone":"eu-1"},"endpoints":["grpc://127.0.0.1:50051"]})");
}

TEST(RegistryCodecTest, KratosWritesNilMetadataAndEscapesLikeGo) {
  auto codec = KratosCodec();
  ServiceInstance instance = Greeter();
  instance.metadata.clear();
  EXPECT_EQ(*codec->Encode(instance), R"({"id":"g1","name":"greeter","version":"","metadata":null,)"
                                      R"("endpoints":["grpc://127.0.0.1:50051"]})");
  // Go's json.Marshal escapes <, > and & (and U+2028/U+2029) in strings.
  instance.metadata = {{"q", "a<b>&c\xE2\x80\xA8"}};
  EXPECT_THAT(*codec->Encode(instance),
              HasSubstr(R"("metadata":{"q":"a\u003cb\u003e\u0026c\u2028"})"));
}

TEST(RegistryCodecTest, KratosRoundTrip) {
  auto codec = KratosCodec();
  ServiceInstance instance = Greeter();
  instance.metadata["version"] = "v2";
  instance.metadata["html"] = "<&>";
  absl::StatusOr<std::string> value = codec->Encode(instance);
  ASSERT_THAT(value, IsOk());
  EXPECT_THAT(codec->Decode("greeter", "/microservices/greeter/g1", *value),
              ::etcdgrpc::testing::IsOkAndHolds(instance));
}

TEST(RegistryCodecTest, KratosDecodesWhatAKratosAppWrites) {
  auto codec = KratosCodec();
  // A Kratos app with an HTTP and a gRPC server, no metadata option.
  absl::StatusOr<ServiceInstance> app = codec->Decode(
      "helloworld", "/microservices/helloworld/5a1d1c2e-8d3b-11ee-b9d1-0242ac120002",
      R"({"id":"5a1d1c2e-8d3b-11ee-b9d1-0242ac120002","name":"helloworld","version":"v1.0.0",)"
      R"("metadata":null,"endpoints":["http://172.17.0.2:8000","grpc://172.17.0.2:9000"]})");
  ASSERT_THAT(app, IsOk());
  EXPECT_EQ(app->service, "helloworld");
  EXPECT_EQ(app->id, "5a1d1c2e-8d3b-11ee-b9d1-0242ac120002");
  EXPECT_EQ(app->address, "172.17.0.2:9000");
  EXPECT_EQ(app->metadata, (std::map<std::string, std::string>{{"version", "v1.0.0"}}));
  // Older Kratos endpoints carry ?isSecure=…
  absl::StatusOr<ServiceInstance> older =
      codec->Decode("helloworld", "/microservices/helloworld/1",
                    R"({"id":"1","name":"helloworld","version":"","metadata":{"region":"sh"},)"
                    R"("endpoints":["http://127.0.0.1:8000?isSecure=false",)"
                    R"("grpc://127.0.0.1:9000?isSecure=false"]})");
  ASSERT_THAT(older, IsOk());
  EXPECT_EQ(older->address, "127.0.0.1:9000");
  EXPECT_EQ(older->metadata, (std::map<std::string, std::string>{{"region", "sh"}}));
  // Only HTTP: Kratos' gRPC resolver skips it, and so do we (no fallback).
  EXPECT_THAT(codec->Decode("helloworld", "/microservices/helloworld/1",
                            R"({"id":"1","name":"helloworld","version":"","metadata":null,)"
                            R"("endpoints":["http://127.0.0.1:8000"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/microservices/helloworld/1 has no grpc:// endpoint "
                                 "(endpoints: http://127.0.0.1:8000)")));
  // Kratos' own registry test registers ServiceInstance{ID: "0", Name:
  // "helloworld"}: no endpoint to dial.
  EXPECT_THAT(codec->Decode("helloworld", "/microservices/helloworld/0",
                            R"({"id":"0","name":"helloworld","version":"","metadata":null,)"
                            R"("endpoints":null})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/microservices/helloworld/0 has no grpc:// endpoint "
                                 "(no endpoints)")));
  EXPECT_THAT(codec->Decode("helloworld", "/microservices/helloworld/0",
                            R"({"id":"0","name":"helloworld","endpoints":["grpc://"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no grpc:// endpoint")));
  // Another service's instance under a similar prefix is refused, as Kratos'
  // GetService skips it.
  EXPECT_THAT(codec->Decode("hello", "/microservices/hello/1",
                            R"({"id":"1","name":"helloworld","endpoints":["grpc://h:1"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not \"hello\"")));
  EXPECT_THAT(codec->Decode("helloworld", "/microservices/helloworld/1", "{"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
}

TEST(RegistryCodecTest, KratosTlsServersWriteGrpcsAndClientsKeepTheirScheme) {
  auto plain = KratosCodec();
  auto secure = KratosCodec(KratosCodecOptions{.secure = true});
  EXPECT_EQ(KratosCodec(KratosCodecOptions{}), plain);
  ServiceInstance instance = Greeter();
  instance.metadata.clear();
  // A Kratos gRPC server with grpc.TLSConfig(...) registers
  // endpoint.NewEndpoint(endpoint.Scheme("grpc", true), addr).
  EXPECT_EQ(*secure->Encode(instance),
            R"({"id":"g1","name":"greeter","version":"","metadata":null,)"
            R"("endpoints":["grpcs://127.0.0.1:50051"]})");
  const std::string tls_only = R"({"id":"t","name":"greeter","version":"","metadata":null,)"
                               R"("endpoints":["https://10.0.0.1:8443","grpcs://10.0.0.1:9443"]})";
  const std::string both = R"({"id":"b","name":"greeter","version":"","metadata":null,)"
                           R"("endpoints":["grpcs://10.0.0.2:9443","grpc://10.0.0.2:9000"]})";
  // A client dialing with TLS keeps grpcs://, an insecure one grpc://.
  EXPECT_EQ(secure->Decode("greeter", "/microservices/greeter/t", tls_only)->address,
            "10.0.0.1:9443");
  EXPECT_EQ(secure->Decode("greeter", "/microservices/greeter/b", both)->address, "10.0.0.2:9443");
  EXPECT_EQ(plain->Decode("greeter", "/microservices/greeter/b", both)->address, "10.0.0.2:9000");
  EXPECT_THAT(plain->Decode("greeter", "/microservices/greeter/t", tls_only),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has no grpc:// endpoint (endpoints: https://10.0.0.1:8443, "
                                 "grpcs://10.0.0.1:9443); a TLS server")));
  EXPECT_THAT(secure->Decode("greeter", "/microservices/greeter/g1", *plain->Encode(instance)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has no grpcs:// endpoint (endpoints: grpc://127.0.0.1:50051); "
                                 "a plaintext server")));
  // Kratos' older TLS servers: grpc://…?isSecure=true, read as grpcs://.
  const std::string legacy = R"({"id":"l","name":"greeter",)"
                             R"("endpoints":["grpc://10.0.0.3:9000?isSecure=true"]})";
  EXPECT_EQ(secure->Decode("greeter", "/microservices/greeter/l", legacy)->address,
            "10.0.0.3:9000");
  EXPECT_THAT(plain->Decode("greeter", "/microservices/greeter/l", legacy),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no grpc:// endpoint")));
}

TEST(RegistryCodecTest, KratosDefaultWeightAndProtection) {
  // Kratos' selector/node/direct: a node without a weight weighs 100.
  EXPECT_EQ(KratosCodec()->default_weight(), 100);
  EXPECT_EQ(KratosCodec(KratosCodecOptions{.secure = true})->default_weight(), 100);
  EXPECT_TRUE(KratosCodec()->protects_against_mass_disappearance());
  for (const auto& codec : {NativeCodec(), NamingCodec(), GoZeroCodec(), HostPortCodec()}) {
    EXPECT_EQ(codec->default_weight(), 1) << codec->name();
    EXPECT_FALSE(codec->protects_against_mass_disappearance()) << codec->name();
    EXPECT_EQ(codec->key_uses_lease(), codec == GoZeroCodec()) << codec->name();
  }
}

// --- etcd naming --------------------------------------------------------------

TEST(RegistryCodecTest, NamingKeyAndExactValue) {
  auto codec = NamingCodec();
  EXPECT_EQ(codec->default_prefix(), "");
  ServiceInstance instance = Greeter();
  instance.metadata.clear();
  // GRPCResolver.Update(ctx, "greeter", naming.Update{Op: naming.Add, Addr:
  // "127.0.0.1:50051"}) puts this at "greeter/127.0.0.1:50051".
  EXPECT_EQ(codec->Key("", instance), "greeter/127.0.0.1:50051");
  EXPECT_EQ(codec->Key("/etcd/grpc", instance), "/etcd/grpc/greeter/127.0.0.1:50051");
  EXPECT_EQ(codec->ServicePrefix("", "greeter"), "greeter/");
  EXPECT_EQ(*codec->Encode(instance), R"({"Op":0,"Addr":"127.0.0.1:50051","Metadata":null})");
  instance.metadata = {{"zone", "eu-1"}};
  EXPECT_EQ(*codec->Encode(instance),
            R"({"Op":0,"Addr":"127.0.0.1:50051","Metadata":{"zone":"eu-1"}})");
}

TEST(RegistryCodecTest, NamingRoundTripUsesTheAddressAsId) {
  auto codec = NamingCodec();
  ServiceInstance instance = Greeter();
  absl::StatusOr<std::string> value = codec->Encode(instance);
  ASSERT_THAT(value, IsOk());
  absl::StatusOr<ServiceInstance> decoded =
      codec->Decode("greeter", codec->Key("", instance), *value);
  ASSERT_THAT(decoded, IsOk());
  instance.id = instance.address;  // the id is not stored
  EXPECT_EQ(*decoded, instance);
}

TEST(RegistryCodecTest, NamingDecodesWhatEtcdsGoPackagesWrite) {
  auto codec = NamingCodec();
  // etcd 3.4 clientv3/naming: GRPCResolver.Update(ctx, "foo", naming.Update{
  // Op: naming.Add, Addr: "127.0.0.1", Metadata: "metadata"}).
  absl::StatusOr<ServiceInstance> resolver =
      codec->Decode("foo", "foo/127.0.0.1", R"({"Op":0,"Addr":"127.0.0.1","Metadata":"metadata"})");
  ASSERT_THAT(resolver, IsOk());
  EXPECT_EQ(resolver->service, "foo");
  EXPECT_EQ(resolver->id, "127.0.0.1");
  // No port: gRPC's default port 443 (NamingCodecOptions::default_port).
  EXPECT_EQ(resolver->address, "127.0.0.1:443");
  EXPECT_EQ(resolver->metadata, (std::map<std::string, std::string>{{"metadata", "metadata"}}));
  // etcd 3.5 client/v3/naming/endpoints: AddEndpoint(ctx,
  // "foo/bar/my-service/e1", endpoints.Endpoint{Addr: "1.2.3.4"}) marshals
  // internal.Update{Op: Add, Addr: "1.2.3.4"}.
  absl::StatusOr<ServiceInstance> manager =
      codec->Decode("", "foo/bar/my-service/e1", R"({"Op":0,"Addr":"1.2.3.4","Metadata":null})");
  ASSERT_THAT(manager, IsOk());
  EXPECT_EQ(manager->service, "my-service");
  EXPECT_EQ(manager->id, "e1");
  EXPECT_EQ(manager->address, "1.2.3.4:443");
  EXPECT_TRUE(manager->metadata.empty());
  // Written by hand as etcd's gRPC naming guide shows (no "Op"), with object
  // and non-string metadata.
  absl::StatusOr<ServiceInstance> by_hand =
      codec->Decode("my-service", "my-service/1.2.3.4:80",
                    R"({"Addr":"1.2.3.4:80","Metadata":{"zone":"a","weight":3}})");
  ASSERT_THAT(by_hand, IsOk());
  EXPECT_EQ(by_hand->metadata,
            (std::map<std::string, std::string>{{"zone", "a"}, {"weight", "3"}}));
  EXPECT_THAT(
      codec->Decode("foo", "foo/1.2.3.4", R"({"Op":0,"Metadata":"x"})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("foo/1.2.3.4 has no \"Addr\"")));
  EXPECT_THAT(codec->Decode("foo", "foo/1.2.3.4", R"({"Op":"add","Addr":"1.2.3.4"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"Op\"")));
  EXPECT_THAT(codec->Decode("foo", "foo/1.2.3.4", "1.2.3.4"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("foo/1.2.3.4")));
}

TEST(RegistryCodecTest, NamingAddrWithoutPort) {
  auto codec = NamingCodec();
  auto addr = [&](const char* value) {
    absl::StatusOr<ServiceInstance> decoded = codec->Decode("s", "s/x", value);
    return decoded.ok() ? decoded->address : std::string(decoded.status().message());
  };
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"1.2.3.4","Metadata":null})"), "1.2.3.4:443");
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"1.2.3.4:80","Metadata":null})"), "1.2.3.4:80");
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"svc.example","Metadata":null})"), "svc.example:443");
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"::1","Metadata":null})"), "[::1]:443");
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"[::1]","Metadata":null})"), "[::1]:443");
  EXPECT_EQ(addr(R"({"Op":0,"Addr":"[::1]:9","Metadata":null})"), "[::1]:9");
  auto other = NamingCodec(NamingCodecOptions{.default_port = 8080});
  EXPECT_EQ(other->Decode("s", "s/x", R"({"Addr":"1.2.3.4"})")->address, "1.2.3.4:8080");
  auto strict = NamingCodec(NamingCodecOptions{.default_port = 0});
  EXPECT_THAT(strict->Decode("s", "s/1.2.3.4", R"({"Op":0,"Addr":"1.2.3.4","Metadata":null})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s/1.2.3.4 has an \"Addr\" without a port: \"1.2.3.4\"")));
}

TEST(RegistryCodecTest, NamingWithoutMetadata) {
  auto codec = NamingCodec(NamingCodecOptions{.write_metadata = false});
  ServiceInstance instance = Greeter();
  // What endpoints.Endpoint{Addr: "127.0.0.1:50051"} (nil Metadata) marshals
  // to: the form Debian's grpc-go round_robin can hash.
  EXPECT_EQ(*codec->Encode(instance), R"({"Op":0,"Addr":"127.0.0.1:50051","Metadata":null})");
  EXPECT_EQ(codec->Key("", instance), "greeter/127.0.0.1:50051");
}

// --- go-zero ------------------------------------------------------------------

TEST(RegistryCodecTest, GoZeroKeyNamesTheLeaseAndValueIsTheAddress) {
  auto codec = GoZeroCodec();
  EXPECT_EQ(codec->default_prefix(), "");
  EXPECT_TRUE(codec->key_uses_lease());
  ServiceInstance instance = Greeter();
  instance.service = "user.rpc";
  instance.metadata.clear();
  // go-zero: makeEtcdKey("user.rpc", 7587869845395163151) =
  // fmt.Sprintf("%s%c%d", key, '/', id), value the listen address.
  EXPECT_EQ(codec->LeaseKey("", instance, 7587869845395163151), "user.rpc/7587869845395163151");
  EXPECT_EQ(codec->LeaseKey("/zero", instance, 1), "/zero/user.rpc/1");
  EXPECT_EQ(codec->ServicePrefix("", "user.rpc"), "user.rpc/");
  EXPECT_EQ(*codec->Encode(instance), "127.0.0.1:50051");
  absl::StatusOr<ServiceInstance> decoded =
      codec->Decode("user.rpc", "user.rpc/7587869845395163151", "192.168.1.5:8080");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->service, "user.rpc");
  EXPECT_EQ(decoded->id, "7587869845395163151");
  EXPECT_EQ(decoded->address, "192.168.1.5:8080");
  EXPECT_TRUE(decoded->metadata.empty());
  EXPECT_EQ(codec->Key("", *decoded), "user.rpc/7587869845395163151");
  EXPECT_EQ(codec->Decode("", "user.rpc/1", "[::1]:8080")->service, "user.rpc");
  // Metadata has no place in the value: refused, not dropped.
  instance.metadata = {{"zone", "a"}};
  EXPECT_THAT(codec->Validate(instance),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("metadata would be lost")));
}

TEST(RegistryCodecTest, GoZeroRejectsValuesThatAreNotAddresses) {
  auto codec = GoZeroCodec();
  for (const char* value : {"", "not an address", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999",
                            R"({"Addr":"1.2.3.4:80"})", "http://1.2.3.4:80", "a b:80"}) {
    EXPECT_THAT(codec->Decode("user.rpc", "user.rpc/1", value),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("registry value at user.rpc/1 is not a go-zero address")))
        << value;
  }
  EXPECT_THAT(codec->Decode("user.rpc", "user.rpc", "1.2.3.4:80"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- host:port ----------------------------------------------------------------

TEST(RegistryCodecTest, HostPortLayout) {
  auto codec = HostPortCodec();
  EXPECT_EQ(codec->default_prefix(), "/services");
  ServiceInstance instance = Greeter();
  instance.metadata.clear();
  EXPECT_EQ(codec->Key("/services", instance), "/services/greeter/g1");
  EXPECT_EQ(*codec->Encode(instance), "127.0.0.1:50051");
  EXPECT_THAT(codec->Decode("greeter", "/services/greeter/g1", "127.0.0.1:50051"),
              ::etcdgrpc::testing::IsOkAndHolds(instance));
  EXPECT_THAT(codec->Decode("greeter", "/services/greeter/g1", R"({"address":"h:1"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/services/greeter/g1 is not an address")));
  instance.metadata = {{"weight", "2"}};
  EXPECT_THAT(codec->Validate(instance), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace etcdgrpc::registry
