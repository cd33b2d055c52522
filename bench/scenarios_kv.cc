// KV scenarios: sequential puts and gets through the client, each interleaved
// with the same workload through a direct, hand-written use of the generated
// stub (the "_raw_stub" baseline).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "go_peer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "local_etcd.h"
#include "scenario.h"
#include "sequential.h"
#include "test_certs.h"

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
  // The same calls on a client with metrics on: what the instrumentation costs.
  absl::StatusOr<std::unique_ptr<Client>> instrumented =
      ConnectClient(env, std::make_shared<MetricsRegistry>());
  if (!instrumented.ok()) return instrumented.status();
  Client& client_metrics = **instrumented;
  const std::string value(kValueBytes, 'v');
  auto raw_request = std::make_shared<etcdserverpb::PutRequest>();
  raw_request->set_value(value);
  auto raw_response = std::make_shared<etcdserverpb::PutResponse>();
  // --- benchmark report: the same through Go's clientv3 where the Go peer is built ---
  absl::StatusOr<std::unique_ptr<GoPeer>> go =
      GoPeer::Start(env, {.workload = "put_seq", .prefix = "/bench/put_seq_go_clientv3/"});
  if (!go.ok()) return go.status();
  std::vector<BlockRun> go_runs;
  if (*go) go_runs.push_back((*go)->Run());
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
            }},
       // Not a baseline: the stub sending what our calls send (a deadline, "hasleader",
       // wait-for-ready; ClientOptions' defaults), so that ours ÷ this is what the library
       // itself costs and this ÷ the raw stub is what those choices cost in gRPC.
       {.report = {.peer = "grpc-raw-stub", .workload = "put_seq_stub_same_wire"},
        .op =
            [&stub, raw_request, raw_response](int64_t i) {
              grpc::ClientContext context;
              context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
              context.AddMetadata("hasleader", "true");
              context.set_wait_for_ready(true);
              raw_request->set_key(absl::StrCat("/bench/put_seq_stub_same_wire/", i));
              return FromGrpc(stub.Put(&context, *raw_request, raw_response.get()));
            }},
       {.report = {.workload = "put_seq_metrics_on"},
        .op =
            [&client_metrics, &value](int64_t i) {
              return StatusOf(
                  client_metrics.Put(absl::StrCat("/bench/put_seq_metrics_on/", i), value));
            }}},
      env.Scaled(kSequentialOps), /*warmup_ops=*/200, /*block_ops=*/500, std::move(go_runs));
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

// put_seq over TLS next to put_seq in plaintext, interleaved: each on its own throwaway
// local etcd (same flags; one serves https with certificates made by TestCerts), so the
// difference is the client's and etcd's TLS cost. --endpoints does not apply.
absl::StatusOr<std::vector<ReportFigures>> PutSeqTls(const BenchEnv& env) {
  const NoSharedServerCpu own_etcds;
  absl::StatusOr<std::unique_ptr<testing::TestCerts>> certs = testing::TestCerts::Create();
  if (!certs.ok()) return certs.status();
  testing::LocalEtcdOptions tls_etcd_options;
  tls_etcd_options.tls = (*certs)->ServerTls();
  absl::StatusOr<std::unique_ptr<testing::LocalEtcd>> tls_etcd =
      testing::LocalEtcd::Start(tls_etcd_options);
  if (!tls_etcd.ok()) return tls_etcd.status();
  absl::StatusOr<std::unique_ptr<testing::LocalEtcd>> plain_etcd = testing::LocalEtcd::Start();
  if (!plain_etcd.ok()) return plain_etcd.status();
  std::fprintf(stderr, "put_seq_tls: started throwaway etcds at %s and %s\n",
               (*tls_etcd)->EndpointsFlag().c_str(), (*plain_etcd)->EndpointsFlag().c_str());

  ClientOptions tls_options;
  tls_options.endpoints = (*tls_etcd)->ClientEndpoints();
  tls_options.tls = TlsOptions{.ca_file = (*certs)->ca_file()};
  absl::StatusOr<std::unique_ptr<Client>> tls_client = Client::Connect(tls_options);
  if (!tls_client.ok()) return tls_client.status();
  ClientOptions plain_options;
  plain_options.endpoints = (*plain_etcd)->ClientEndpoints();
  absl::StatusOr<std::unique_ptr<Client>> plain_client = Client::Connect(plain_options);
  if (!plain_client.ok()) return plain_client.status();

  const std::string value(kValueBytes, 'v');
  auto put_op = [value](Client& client, std::string prefix) {
    return [&client, prefix = std::move(prefix), value](int64_t i) {
      return StatusOf(client.Put(absl::StrCat(prefix, i), value));
    };
  };
  absl::StatusOr<std::vector<ReportFigures>> figures =
      RunInterleaved({{.report = {.workload = "put_seq_plaintext", .extra = {{"etcd", "own"}}},
                       .op = put_op(**plain_client, "/bench/put_seq_plaintext/")},
                      {.report = {.workload = "put_seq_tls", .extra = {{"etcd", "own"}}},
                       .op = put_op(**tls_client, "/bench/put_seq_tls/")}},
                     env.Scaled(kSequentialOps));
  if (figures.ok() && figures->size() == 2) {
    PrintCompare(/*ours=*/(*figures)[1], /*baseline=*/(*figures)[0]);
  }
  return figures;
}

}  // namespace

void RegisterKvScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back(
      {"put_seq",
       "20k sequential puts of 64-byte values; with put_seq_raw_stub interleaved (and Go's "
       "clientv3 where built)",
       PutSeq});
  scenarios.push_back({"put_seq_tls",
                       "20k sequential puts over TLS; with put_seq_plaintext interleaved (each "
                       "on its own local etcd)",
                       PutSeqTls});
  scenarios.push_back({"range_seq",
                       "20k sequential linearizable gets of one key; with range_seq_raw_stub",
                       [](const BenchEnv& env) { return RangeSeq(env, false); }});
  scenarios.push_back(
      {"range_serializable",
       "20k sequential serializable gets of one key; with range_serializable_raw_stub",
       [](const BenchEnv& env) { return RangeSeq(env, true); }});
}

}  // namespace etcdgrpc::bench
