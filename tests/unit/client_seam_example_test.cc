// How to test code that uses a Client without an etcd (the documented seam):
// a gRPC server in the test process, on a loopback port, implements the part
// of etcd's services the code under test needs (installed headers
// etcdgrpc/proto/etcdserverpb/rpc.grpc.pb.h), and the client connects to it
// as it would to etcd: the same calls, retries, errors and streams, no mock
// of the client's own classes. Copy this into your own tests.
#include <memory>
#include <string>

#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace {

using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;

// The code under test: reads a feature flag from etcd.
bool FeatureEnabled(etcdgrpc::Client& client, const std::string& name) {
  absl::StatusOr<etcdgrpc::GetResult> flag = client.Get("/flags/" + name);
  return flag.ok() && !flag->kvs.empty() && flag->kvs[0].value == "on";
}

// The test's etcd: one key, and a Put that is refused.
class FakeKv final : public etcdserverpb::KV::Service {
 public:
  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override {
    response->mutable_header()->set_revision(7);
    if (request->key() == "/flags/dark-mode") {
      mvccpb::KeyValue* kv = response->add_kvs();
      kv->set_key(request->key());
      kv->set_value("on");
      kv->set_mod_revision(7);
      response->set_count(1);
    }
    return grpc::Status::OK;
  }
  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest*,
                   etcdserverpb::PutResponse*) override {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "etcdserver: permission denied");
  }
};

class ClientSeamExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&kv_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    etcdgrpc::ClientOptions options;
    options.endpoints = {"127.0.0.1:" + std::to_string(port)};
    auto client = etcdgrpc::Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown();
  }

  FakeKv kv_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<etcdgrpc::Client> client_;
};

TEST_F(ClientSeamExampleTest, TheCodeUnderTestReadsTheFakeAnswers) {
  EXPECT_TRUE(FeatureEnabled(*client_, "dark-mode"));
  EXPECT_FALSE(FeatureEnabled(*client_, "other"));
}

TEST_F(ClientSeamExampleTest, ErrorsComeBackAsFromEtcd) {
  EXPECT_THAT(client_->Put("/flags/dark-mode", "off"),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
