// KV scenarios: sequential puts and gets through the client, each interleaved
// with the same workload through a direct, hand-written use of the generated
// stub (the "_raw_stub" baseline).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "scenario.h"
#include "sequential.h"

namespace etcdgrpc::bench {
namespace {

constexpr int64_t kSequentialOps = 20000;
constexpr size_t kValueBytes = 64;

absl::Status FromGrpc(const grpc::Status& status) {
  return status.ok() ? absl::OkStatus()
                     : absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                    status.error_message());
}

template <class T>
absl::Status StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

struct Clients {
  std::unique_ptr<Client> client;
  std::unique_ptr<etcdserverpb::KV::Stub> stub;
};

absl::StatusOr<Clients> ConnectBoth(const BenchEnv& env) {
  ClientOptions options;
  options.endpoints = env.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  // The baseline: the simplest use of the generated stub, on its own channel.
  auto stub = etcdserverpb::KV::NewStub(
      grpc::CreateChannel(env.endpoints.front(), grpc::InsecureChannelCredentials()));
  return Clients{*std::move(client), std::move(stub)};
}

absl::StatusOr<std::vector<ReportFigures>> PutSeq(const BenchEnv& env) {
  absl::StatusOr<Clients> clients = ConnectBoth(env);
  if (!clients.ok()) return clients.status();
  Client& client = *clients->client;
  etcdserverpb::KV::Stub& stub = *clients->stub;
  const std::string value(kValueBytes, 'v');
  auto raw_request = std::make_shared<etcdserverpb::PutRequest>();
  raw_request->set_value(value);
  auto raw_response = std::make_shared<etcdserverpb::PutResponse>();
  return RunInterleaved(
      {{.report = {.peer = "grpc-raw-stub", .workload = "put_seq_raw_stub"},
        .op =
            [&stub, raw_request, raw_response](int64_t i) {
              grpc::ClientContext context;
              raw_request->set_key(absl::StrCat("/bench/put_seq_raw_stub/", i));
              return FromGrpc(stub.Put(&context, *raw_request, raw_response.get()));
            }},
       {.report = {.workload = "put_seq"},
        .op =
            [&client, &value](int64_t i) {
              return StatusOf(client.Put(absl::StrCat("/bench/put_seq/", i), value));
            }}},
      env.Scaled(kSequentialOps));
}

absl::StatusOr<std::vector<ReportFigures>> RangeSeq(const BenchEnv& env, bool serializable) {
  absl::StatusOr<Clients> clients = ConnectBoth(env);
  if (!clients.ok()) return clients.status();
  Client& client = *clients->client;
  etcdserverpb::KV::Stub& stub = *clients->stub;
  const std::string key = "/bench/range_seq/key";
  if (auto put = client.Put(key, std::string(kValueBytes, 'v')); !put.ok()) return put.status();
  auto raw_request = std::make_shared<etcdserverpb::RangeRequest>();
  raw_request->set_key(key);
  raw_request->set_serializable(serializable);
  auto raw_response = std::make_shared<etcdserverpb::RangeResponse>();
  GetOptions options;
  options.serializable = serializable;
  const std::string workload = serializable ? "range_serializable" : "range_seq";
  return RunInterleaved(
      {{.report = {.peer = "grpc-raw-stub", .workload = workload + "_raw_stub"},
        .op =
            [&stub, raw_request, raw_response](int64_t) {
              grpc::ClientContext context;
              return FromGrpc(stub.Range(&context, *raw_request, raw_response.get()));
            }},
       {.report = {.workload = workload},
        .op =
            [&client, &key, options](int64_t) {
              absl::StatusOr<GetResult> result = client.Get(key, options);
              if (result.ok() && result->kvs.size() != 1) {
                return absl::InternalError("the benchmark key vanished");
              }
              return result.status();
            }}},
      env.Scaled(kSequentialOps));
}

}  // namespace

void RegisterKvScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"put_seq",
                       "20k sequential puts of 64-byte values; with put_seq_raw_stub interleaved",
                       PutSeq});
  scenarios.push_back({"range_seq",
                       "20k sequential linearizable gets of one key; with range_seq_raw_stub",
                       [](const BenchEnv& env) { return RangeSeq(env, false); }});
  scenarios.push_back(
      {"range_serializable",
       "20k sequential serializable gets of one key; with range_serializable_raw_stub",
       [](const BenchEnv& env) { return RangeSeq(env, true); }});
}

}  // namespace etcdgrpc::bench
