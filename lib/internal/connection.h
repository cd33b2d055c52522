// A client's channels and stubs, one set per etcd endpoint, which endpoint
// calls go to now, and the per-call context (deadline, metadata). The stub
// interfaces are the seam unit tests replace with mocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client_options.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace etcdgrpc::internal {

struct EndpointStubs {
  std::string address;  // "host:port"
  // Null when the stubs are mocks.
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::StubInterface> kv;
  std::unique_ptr<etcdserverpb::Lease::StubInterface> lease;
  std::unique_ptr<etcdserverpb::Watch::StubInterface> watch;
  std::unique_ptr<etcdserverpb::Maintenance::StubInterface> maintenance;
  std::unique_ptr<etcdserverpb::Cluster::StubInterface> cluster;
  std::unique_ptr<etcdserverpb::Auth::StubInterface> auth;
};

class Connection {
 public:
  // Creates a channel per endpoint (with the wire log interceptor when asked)
  // and, with a non-zero dial timeout, waits until one endpoint is ready.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Connection>> Dial(
      const ClientOptions& options);

  // Over ready-made stubs (tests).
  Connection(const ClientOptions& options, std::vector<std::unique_ptr<EndpointStubs>> endpoints);

  size_t size() const { return endpoints_.size(); }
  EndpointStubs& endpoint(size_t index) { return *endpoints_[index]; }
  const std::vector<std::string>& addresses() const { return addresses_; }

  // Index of the endpoint calls go to now.
  size_t current() const { return current_.load(std::memory_order_relaxed); }
  // The endpoint for a new call: the current one, unless its channel is in
  // TRANSIENT_FAILURE and another's is not (then that one becomes current).
  size_t PickEndpoint();
  // The endpoint at `index` answered UNAVAILABLE: later calls go to the next
  // one (unless another thread already moved on).
  void ReportUnavailable(size_t index);

  // Deadline for a unary call starting now.
  absl::Time UnaryDeadline() const { return absl::Now() + request_timeout_; }
  // Applies the deadline and the metadata every call carries.
  void PrepareContext(grpc::ClientContext* context, absl::Time deadline) const;
  // The metadata of a long-lived stream (no deadline).
  void PrepareStreamContext(grpc::ClientContext* context) const;
  absl::Duration request_timeout() const { return request_timeout_; }

  bool retry_writes() const { return retry_writes_; }

 private:
  absl::Status WaitForReady(absl::Duration timeout);

  std::vector<std::unique_ptr<EndpointStubs>> endpoints_;
  std::vector<std::string> addresses_;
  std::atomic<size_t> current_{0};
  absl::Duration request_timeout_;
  bool require_leader_;
  bool retry_writes_;
};

}  // namespace etcdgrpc::internal
