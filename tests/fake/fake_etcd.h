// An in-process fake etcd for fault-injection tests: a gRPC server on
// 127.0.0.1 implementing the parts of etcd's API a test needs, whose answers
// the test controls (drop streams, answer TTL 0, stay silent, ...). Never a
// stand-in for the real server in behaviour tests: those use LocalEtcd.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/server.h"

namespace etcdgrpc::testing {

// Lease service with controllable keep-alive answers. Grants hand out ids
// 0x1000, 0x1001, ... with the TTL asked for; revokes always succeed.
class FakeLeaseService final : public etcdserverpb::Lease::Service {
 public:
  enum class Mode {
    kAnswer,   // answer every keep-alive with ttl()
    kTtlZero,  // answer every keep-alive with TTL 0 (lease gone)
    kSilent,   // read requests but never answer
  };

  void set_mode(Mode mode);
  void set_ttl(int64_t ttl);
  // Ends every open keep-alive stream (the client sees the stream break).
  void DropStreams();
  // Drop the stream on the next request received (before answering it).
  void DropOnNextRequest();

  int streams_opened();
  // Receive times of keep-alive requests, per lease id.
  std::map<int64_t, std::vector<absl::Time>> requests();
  // Waits until `n` requests for `id` were received.
  bool WaitForRequests(int64_t id, size_t n, absl::Duration timeout);

  grpc::Status LeaseKeepAlive(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                               etcdserverpb::LeaseKeepAliveRequest>* stream) override;
  grpc::Status LeaseGrant(grpc::ServerContext* context,
                          const etcdserverpb::LeaseGrantRequest* request,
                          etcdserverpb::LeaseGrantResponse* response) override;
  grpc::Status LeaseRevoke(grpc::ServerContext* context,
                           const etcdserverpb::LeaseRevokeRequest* request,
                           etcdserverpb::LeaseRevokeResponse* response) override;

 private:
  internal::Mutex mu_;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0x1000;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kAnswer;
  int64_t ttl_ ABSL_GUARDED_BY(mu_) = 30;
  bool drop_on_next_ ABSL_GUARDED_BY(mu_) = false;
  int streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<grpc::ServerContext*> open_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::vector<absl::Time>> requests_ ABSL_GUARDED_BY(mu_);
  internal::CondVar requests_cv_;  // notified when requests_ grows
};

// Watch service whose responses the test sends by hand.
class FakeWatchService final : public etcdserverpb::Watch::Service {
 public:
  // Answer every progress request at once with a stream-wide progress
  // response (watch_id -1) at `revision`, as etcd 3.4 does; 0: do not answer.
  void set_answer_progress(int64_t revision);
  // Requests received so far on stream number `stream` (0 = first).
  std::vector<etcdserverpb::WatchRequest> requests(size_t stream);
  bool WaitForRequests(size_t stream, size_t n, absl::Duration timeout);
  // Sends on the current stream; false if there is none.
  bool Send(const etcdserverpb::WatchResponse& response);
  // Ends the current stream.
  void DropStream();
  int streams_opened();

  grpc::Status Watch(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<etcdserverpb::WatchResponse,
                                              etcdserverpb::WatchRequest>* stream) override;

 private:
  internal::Mutex mu_;
  std::vector<std::vector<etcdserverpb::WatchRequest>> requests_ ABSL_GUARDED_BY(mu_);
  internal::CondVar requests_cv_;  // notified when requests_ grows
  grpc::ServerContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream_
      ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t answer_progress_ ABSL_GUARDED_BY(mu_) = 0;
};

// Maintenance.Status answering with a settable etcd version ("3.4.23").
class FakeMaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  void set_version(std::string version);
  int status_calls();
  grpc::Status Status(grpc::ServerContext* context, const etcdserverpb::StatusRequest* request,
                      etcdserverpb::StatusResponse* response) override;

 private:
  internal::Mutex mu_;
  std::string version_ ABSL_GUARDED_BY(mu_) = "3.4.23";
  int status_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// KV service answering from a fixed table: Range returns the keys of the
// table in the requested range; Txn always succeeds (the success branch's
// operations are not applied) at the next revision. Every answer's header
// carries the current revision.
class FakeKvService final : public etcdserverpb::KV::Service {
 public:
  // Replaces the table and sets the revision.
  void Set(std::map<std::string, std::string> kvs, int64_t revision);
  int64_t revision();

  grpc::Status Range(grpc::ServerContext* context, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override;
  grpc::Status Txn(grpc::ServerContext* context, const etcdserverpb::TxnRequest* request,
                   etcdserverpb::TxnResponse* response) override;

 private:
  internal::Mutex mu_;
  std::map<std::string, std::string> kvs_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 1;
};

class FakeEtcd {
 public:
  // Starts the server on a free 127.0.0.1 port.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FakeEtcd>> Start();
  ~FakeEtcd();

  std::string endpoint() const { return endpoint_; }
  FakeLeaseService& lease() { return lease_; }
  FakeWatchService& watch() { return watch_; }
  FakeMaintenanceService& maintenance() { return maintenance_; }
  FakeKvService& kv() { return kv_; }

 private:
  FakeEtcd() = default;
  FakeLeaseService lease_;
  FakeWatchService watch_;
  FakeMaintenanceService maintenance_;
  FakeKvService kv_;
  std::unique_ptr<grpc::Server> server_;
  std::string endpoint_;
};

}  // namespace etcdgrpc::testing
