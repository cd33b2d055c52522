// TLS against real etcd processes serving https with certificates made at test time: server
// verification, mutual TLS, server name override, the errors when something does not match
// (unknown CA, name mismatch, missing or foreign client certificate, unreadable files), and the
// CLI's --cacert/--cert/--key next to etcdctl's.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli_runner.h"
#include "etcdgrpc/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "recorders.h"
#include "status_matchers.h"
#include "test_certs.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::LeaseRecorder;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::LocalEtcdOptions;
using ::etcdgrpc::testing::RunProgram;
using ::etcdgrpc::testing::RunResult;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestCerts;
using ::etcdgrpc::testing::WatchRecorder;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kCli[] = ETCDGRPC_CLI;
constexpr char kEtcdctl[] = "/usr/bin/etcdctl";
constexpr absl::Duration kDialTimeout = absl::Seconds(2);
// A failed handshake must be reported within the dial timeout (plus the probe that reads
// gRPC's reason), never after a long hang.
constexpr absl::Duration kFailBound = absl::Seconds(3);  // kDialTimeout + 1 s

MATCHER_P(HasSubstrIgnoringCase, needle, "") {
  return absl::StrContains(absl::AsciiStrToLower(arg), absl::AsciiStrToLower(needle));
}

class TlsTest : public ::testing::Test {
 protected:
  // One set of certificates, one etcd serving TLS and one requiring client certificates,
  // shared by all tests.
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TestCerts>> certs = TestCerts::Create();
    ASSERT_THAT(certs, IsOk());
    certs_ = certs->release();
    for (bool mtls : {false, true}) {
      LocalEtcdOptions options;
      options.tls = certs_->ServerTls(/*client_cert_auth=*/mtls);
      absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(options);
      ASSERT_THAT(etcd, IsOk());
      (mtls ? mtls_etcd_ : tls_etcd_) = etcd->release();
    }
  }
  static void TearDownTestSuite() {
    delete tls_etcd_;
    delete mtls_etcd_;
    delete certs_;
    tls_etcd_ = mtls_etcd_ = nullptr;
    certs_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(certs_, nullptr);
    ASSERT_NE(tls_etcd_, nullptr);
    ASSERT_NE(mtls_etcd_, nullptr);
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = absl::StrCat("/tls/", info->name(), "/");
  }

  static ClientOptions Options(const LocalEtcd& etcd, TlsOptions tls) {
    ClientOptions options;
    options.endpoints = etcd.ClientEndpoints();
    options.dial_timeout = kDialTimeout;
    options.tls = std::move(tls);
    return options;
  }
  static TlsOptions ServerOnly() { return TlsOptions{.ca_file = certs_->ca_file()}; }
  static TlsOptions Mutual() {
    return TlsOptions{.ca_file = certs_->ca_file(),
                      .cert_file = certs_->client_cert_file(),
                      .key_file = certs_->client_key_file()};
  }

  // Connect() must fail within kFailBound; returns its error.
  static absl::Status ConnectFails(const ClientOptions& options) {
    absl::Status status = ConnectFailsImpl(options);
    std::printf("error: %s\n", status.ToString().c_str());
    return status;
  }
  static absl::Status ConnectFailsImpl(const ClientOptions& options) {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    const absl::Duration took = absl::Now() - start;
    EXPECT_LT(took, kFailBound);
    if (client.ok()) {
      // A server that checks the client certificate after the handshake: the first call fails.
      absl::StatusOr<GetResult> get = (*client)->Get("x");
      EXPECT_FALSE(get.ok());
      return get.status();
    }
    return client.status();
  }

  static TestCerts* certs_;
  static LocalEtcd* tls_etcd_;
  static LocalEtcd* mtls_etcd_;
  std::string prefix_;
};

TestCerts* TlsTest::certs_ = nullptr;
LocalEtcd* TlsTest::tls_etcd_ = nullptr;
LocalEtcd* TlsTest::mtls_etcd_ = nullptr;

TEST_F(TlsTest, EndpointsAreHttps) {
  for (const std::string& endpoint : tls_etcd_->ClientEndpoints()) {
    EXPECT_TRUE(absl::StartsWith(endpoint, "https://127.0.0.1:")) << endpoint;
  }
  EXPECT_TRUE(absl::StartsWith(tls_etcd_->EndpointsFlag(), "https://"));
}

TEST_F(TlsTest, PutGetWatchAndKeptLeaseOverTls) {
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect(Options(*tls_etcd_, ServerOnly()));
  ASSERT_THAT(client, IsOk());
  const std::string key = prefix_ + "k";
  ASSERT_THAT((*client)->Put(key, "v1"), IsOk());
  absl::StatusOr<GetResult> get = (*client)->Get(key);
  ASSERT_THAT(get, IsOk());
  ASSERT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ(get->kvs[0].value, "v1");

  WatchRecorder watch_listener;
  absl::StatusOr<WatchHandle> watch = (*client)->Watch(
      {.range = KeyRange::Key(key), .start_revision = get->header.revision}, &watch_listener);
  ASSERT_THAT(watch, IsOk());
  ASSERT_THAT((*client)->Put(key, "v2"), IsOk());
  ASSERT_TRUE(watch_listener.WaitForEvents(2, absl::Seconds(5)));
  EXPECT_THAT(watch_listener.values(), ::testing::ElementsAre("v1", "v2"));

  // A lease with a 2 s TTL kept for 3 s: renewed over the TLS keep-alive stream.
  absl::StatusOr<LeaseGrantResult> lease = (*client)->Grant(2);
  ASSERT_THAT(lease, IsOk());
  LeaseRecorder lease_listener;
  absl::StatusOr<KeptLease> kept =
      (*client)->Keep(lease->id, &lease_listener, {.ttl = absl::Seconds(2)});
  ASSERT_THAT(kept, IsOk());
  absl::SleepFor(absl::Seconds(3));
  EXPECT_GE(lease_listener.renewals(), 2);
  EXPECT_TRUE(lease_listener.losses().empty());
  absl::StatusOr<LeaseTimeToLiveResult> ttl = (*client)->TimeToLive(lease->id);
  ASSERT_THAT(ttl, IsOk());
  EXPECT_GT(ttl->ttl, 0);
}

TEST_F(TlsTest, TlsOptionsSecureEndpointsWithoutScheme) {
  // Like etcdctl: with TLS options, "host:port" means TLS too.
  ClientOptions options = Options(*tls_etcd_, ServerOnly());
  for (std::string& endpoint : options.endpoints) {
    absl::string_view rest = endpoint;
    ASSERT_TRUE(absl::ConsumePrefix(&rest, "https://"));
    endpoint = std::string(rest);
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Put(prefix_ + "k", "v"), IsOk());
}

TEST_F(TlsTest, ServerNameOverrideMatchingTheCertificateWorks) {
  TlsOptions tls = ServerOnly();
  tls.server_name_override = "localhost";
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(Options(*tls_etcd_, tls));
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Put(prefix_ + "k", "v"), IsOk());
}

TEST_F(TlsTest, MutualTlsWorks) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(Options(*mtls_etcd_, Mutual()));
  ASSERT_THAT(client, IsOk());
  const std::string key = prefix_ + "k";
  ASSERT_THAT((*client)->Put(key, "mutual"), IsOk());
  absl::StatusOr<GetResult> get = (*client)->Get(key);
  ASSERT_THAT(get, IsOk());
  ASSERT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ(get->kvs[0].value, "mutual");
}

TEST_F(TlsTest, WrongCaFailsFastSayingTheCertificateIsNotTrusted) {
  TlsOptions tls = ServerOnly();
  tls.ca_file = certs_->other_ca_file();
  const absl::Time start = absl::Now();
  const absl::Status status = ConnectFails(Options(*tls_etcd_, tls));
  // A rejected certificate is final: no need to wait out the dial timeout.
  EXPECT_LT(absl::Now() - start, kDialTimeout / 2);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("no etcd endpoint reachable"),
                                     HasSubstr(tls_etcd_->ClientEndpoints()[0].substr(8)),
                                     HasSubstrIgnoringCase("certificate"))));
}

TEST_F(TlsTest, HttpsWithoutTlsOptionsVerifiesWithDefaultRoots) {
  // The test CA is not among the default roots, so the server is not trusted.
  ClientOptions options = Options(*tls_etcd_, {});
  options.tls.reset();
  const absl::Status status = ConnectFails(options);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstrIgnoringCase("certificate")));
}

TEST_F(TlsTest, NameMismatchFailsClearly) {
  TlsOptions tls = ServerOnly();
  tls.server_name_override = "etcd.wrong.example";
  const absl::Status status = ConnectFails(Options(*tls_etcd_, tls));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("no etcd endpoint reachable"),
                                     HasSubstr("etcd.wrong.example"))));
}

TEST_F(TlsTest, MissingClientCertificateFailsClearly) {
  const absl::Status status = ConnectFails(Options(*mtls_etcd_, ServerOnly()));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstrIgnoringCase("certificate")) << status;
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaFailsClearly) {
  TlsOptions tls = Mutual();
  tls.cert_file = certs_->other_client_cert_file();
  tls.key_file = certs_->other_client_key_file();
  const absl::Status status = ConnectFails(Options(*mtls_etcd_, tls));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstrIgnoringCase("certificate")) << status;
}

TEST_F(TlsTest, TlsClientAndPlaintextServerDisagreeClearly) {
  // A plaintext client against the TLS etcd.
  ClientOptions plain = Options(*tls_etcd_, {});
  plain.tls.reset();
  for (std::string& endpoint : plain.endpoints) endpoint = endpoint.substr(8);  // no https://
  EXPECT_THAT(ConnectFails(plain),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("no etcd endpoint reachable"), HasSubstr("TLS"))));
  // A TLS client against a plaintext etcd.
  absl::StatusOr<std::unique_ptr<LocalEtcd>> plain_etcd = LocalEtcd::Start();
  ASSERT_THAT(plain_etcd, IsOk());
  EXPECT_THAT(ConnectFails(Options(**plain_etcd, ServerOnly())),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("no etcd endpoint reachable"), HasSubstr("TLS"))));
}

TEST_F(TlsTest, BadTlsOptionsAreInvalidArgument) {
  const std::string missing = certs_->dir() + "/no-such-ca.pem";
  TlsOptions tls = ServerOnly();
  tls.ca_file = missing;
  EXPECT_THAT(Client::Connect(Options(*tls_etcd_, tls)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("ca_file"), HasSubstr(missing))));
  // A directory cannot be read as a file.
  tls.ca_file = certs_->dir();
  EXPECT_THAT(Client::Connect(Options(*tls_etcd_, tls)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(certs_->dir())));
  // Not PEM.
  tls.ca_file = "/proc/self/cmdline";
  EXPECT_THAT(Client::Connect(Options(*tls_etcd_, tls)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a PEM file")));

  TlsOptions cert_only = ServerOnly();
  cert_only.cert_file = certs_->client_cert_file();
  EXPECT_THAT(Client::Connect(Options(*mtls_etcd_, cert_only)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without key_file")));
  TlsOptions key_only = ServerOnly();
  key_only.key_file = certs_->client_key_file();
  EXPECT_THAT(Client::Connect(Options(*mtls_etcd_, key_only)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without cert_file")));
  TlsOptions bad_key = Mutual();
  bad_key.key_file = certs_->dir() + "/no-such.key";
  EXPECT_THAT(Client::Connect(Options(*mtls_etcd_, bad_key)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad_key.key_file)));

  // TLS options with an explicit http:// endpoint: refused rather than silently plaintext.
  ClientOptions http = Options(*tls_etcd_, ServerOnly());
  http.endpoints = {"http://127.0.0.1:2379"};
  EXPECT_THAT(Client::Connect(http),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("http://")));
}

TEST_F(TlsTest, CliWithCacertCertKeyMatchesEtcdctl) {
  if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << "etcdctl not installed";
  const std::vector<std::string> tls_flags = {
      "--endpoints=" + mtls_etcd_->EndpointsFlag(), "--cacert=" + certs_->ca_file(),
      "--cert=" + certs_->client_cert_file(), "--key=" + certs_->client_key_file()};
  auto run = [&](const char* program, std::vector<std::string> args) {
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult result = RunProgram(argv, "");
    result.err = ::etcdgrpc::testing::WithoutLogLines(result.err);
    return result;
  };
  const std::string key = prefix_ + "cli";
  RunResult put = run(kCli, {"put", key, "over-mtls"});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(put.out, "OK\n");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"get", key}, {"get", prefix_, "--prefix", "-w", "json"}}) {
    RunResult ctl = run(kEtcdctl, args);
    RunResult ours = run(kCli, args);
    ASSERT_EQ(ctl.exit_code, 0) << ctl;
    EXPECT_EQ(ours.exit_code, 0) << ours;
    EXPECT_EQ(ours.out, ctl.out) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
  }
  EXPECT_EQ(run(kCli, {"get", key, "--print-value-only"}).out, "over-mtls\n");

  // Without the client certificate the CLI fails, saying why.
  RunResult no_cert = RunProgram({kCli, "--endpoints=" + mtls_etcd_->EndpointsFlag(),
                                  "--cacert=" + certs_->ca_file(), "get", key},
                                 "");
  EXPECT_NE(no_cert.exit_code, 0) << no_cert;
  EXPECT_THAT(no_cert.err, HasSubstrIgnoringCase("certificate")) << no_cert;
  // --cert without --key is a usage error.
  RunResult half = RunProgram(
      {kCli, "--endpoints=" + mtls_etcd_->EndpointsFlag(), "--cacert=" + certs_->ca_file(),
       "--cert=" + certs_->client_cert_file(), "get", key},
      "");
  EXPECT_NE(half.exit_code, 0) << half;
  EXPECT_THAT(half.err, HasSubstr("key")) << half;
}

}  // namespace
}  // namespace etcdgrpc
