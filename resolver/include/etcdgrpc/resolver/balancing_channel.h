// A plain grpc::Channel that balances over a service's endpoints, for
// generated stubs without picks (what Go users get from GetConnection):
// gRPC's own round_robin over an ipv4:/ipv6: target of the endpoints'
// addresses, rebuilt when they change. Its limits next to the picker:
// docs/balancing-channel.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver {

// Retries made by gRPC inside the channel (its service config retryPolicy),
// invisible to stubs. Backoff before attempt n+1 is random in
// [0, min(initial_backoff * backoff_multiplier^(n-1), max_backoff)].
struct ETCDGRPC_EXPORT ChannelRetryPolicy {
  // Attempts per call, the first included: 2 to 5 (gRPC's own limits).
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
  double backoff_multiplier = 2.0;
  // Not empty; OK is not a failure.
  std::vector<grpc::StatusCode> retryable_codes = {grpc::StatusCode::UNAVAILABLE};
  // The methods it applies to: "package.Service" or "package.Service/Method".
  // Empty: every method.
  std::vector<std::string> methods{};
};

struct ETCDGRPC_EXPORT ChannelOptions {
  // gRPC health checking of each address (grpc.health.v1 Watch, by gRPC's
  // round_robin): an address that does not answer SERVING for this service
  // name gets no calls. "" checks the server as a whole. Unset: off.
  std::optional<std::string> health_check_service = std::nullopt;
  // Unset: no retries (gRPC still retries, transparently, calls that never
  // left the client).
  std::optional<ChannelRetryPolicy> retry = std::nullopt;
  // How long a channel replaced by a rebuild is still held here before it
  // is released (to the stubs and calls that still hold it, or freed). Not
  // shorter than its connection attempts: gRPC 1.51 leaves a connection
  // open when its channel is freed while the attempt is in flight.
  absl::Duration retire_delay = absl::Seconds(1);
};

// What a balancing channel has done, for monitoring and tests.
struct ETCDGRPC_EXPORT BalancingChannelStats {
  // Channels made after the first, one per change of the address list
  // (changes of metadata only, or of records that are left out, make none).
  uint64_t rebuilds = 0;
  // Time spent making those channels (on the resolver's listener thread).
  absl::Duration rebuild_time{};
  // Endpoints of the current set left out of the target: their address is
  // a host name, not an IP address.
  std::vector<std::string> left_out{};
};

namespace internal {
class ChannelCore;
}  // namespace internal

// Made by Resolver::Channel(). Thread-safe.
//
// Each change of the service's addresses makes a new grpc::Channel and
// publishes it; the previous one is no longer held here. A stub (or call)
// made on a previous channel keeps that channel, and its connections, alive
// and keeps calling the addresses it had: take the channel with get() (or a
// stub with NewStub()) per call or per batch of calls, not once for the life
// of the process. Addresses that stay keep their connections across
// channels (gRPC shares them while both channels are alive).
class ETCDGRPC_EXPORT BalancingChannel {
 public:
  explicit BalancingChannel(std::shared_ptr<internal::ChannelCore> core);
  // Stops following the service; channels handed out keep working.
  ~BalancingChannel();
  BalancingChannel(const BalancingChannel&) = delete;
  BalancingChannel& operator=(const BalancingChannel&) = delete;

  // The channel over the current addresses; never null. With none usable,
  // a channel whose calls fail at once: UNAVAILABLE naming the service when
  // it has no endpoint, FAILED_PRECONDITION when its endpoints all have
  // host names.
  [[nodiscard]] std::shared_ptr<grpc::Channel> get() const;
  // A stub of generated service `S` on get().
  template <class S>
  [[nodiscard]] std::unique_ptr<typename S::Stub> NewStub() const {
    return S::NewStub(get());
  }

  [[nodiscard]] const std::string& service() const;
  // OK when get() has addresses to call; otherwise what its calls fail with.
  [[nodiscard]] absl::Status status() const;
  // The current target ("ipv4:10.0.0.1:50051,10.0.0.2:50051"); empty when
  // status() is not OK.
  [[nodiscard]] std::string target() const;
  // OK once the service has at least one endpoint; DEADLINE_EXCEEDED after
  // `timeout` otherwise.
  [[nodiscard]] absl::Status WaitForEndpoints(absl::Duration timeout) const;
  [[nodiscard]] BalancingChannelStats stats() const;

 private:
  std::shared_ptr<internal::ChannelCore> core_;
};

}  // namespace etcdgrpc::resolver
