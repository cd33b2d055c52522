// FaultProxy: an in-process loopback TCP proxy that tests put between a client and an etcd
// member (or between members) to delay, throttle, black-hole, reset or partition traffic.
#ifndef ETCDGRPC_TESTS_SUPPORT_FAULT_PROXY_H_
#define ETCDGRPC_TESTS_SUPPORT_FAULT_PROXY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace etcdgrpc::testing {

// Upstream: from the connecting client to the target. Downstream: the answers.
enum class Direction { kUpstream, kDownstream };

enum class BlackHole {
  kOff,
  // Keeps reading and discards: the sender's writes succeed, nothing arrives. A connection
  // that lost bytes cannot carry its stream on, so it is reset once forwarding resumes.
  kDrop,
  // Stops reading: TCP flow control pushes back until the sender's writes block, as with a
  // frozen peer. What was held is delivered, on the same connection, once forwarding resumes.
  kStall,
};

// What happens to the connections tagged with one sender (see FaultProxyOptions::sender_header).
enum class SenderRule { kPass, kBlackHoleDrop, kBlackHoleStall, kReset };

struct FaultProxyOptions {
  // Port on 127.0.0.1 to listen on; 0 picks a free one.
  int listen_port = 0;
  // Every accepted connection is forwarded to 127.0.0.1:target_port.
  int target_port = 0;
  // Sender classification: when set (e.g. "X-Server-From", which etcd's rafthttp sends), the
  // upstream data of each connection is read as HTTP/1.x requests until one carries this
  // header, whose value then tags the connection for SetSenderRule(). Each request head is
  // held back until it is complete (or max_head_bytes / head_timeout is reached, or the data
  // is not HTTP/1.x: then the connection stays untagged) so that the rule applies before any
  // byte of the tagged request is forwarded. Later requests are looked at too because a
  // keep-alive connection may first carry requests without the header (etcd's prober) and
  // then ones with it.
  std::string sender_header = {};
  size_t max_head_bytes = 8 * 1024;
  absl::Duration head_timeout = absl::Milliseconds(500);
  // Bytes read but not yet forwarded, per connection and direction; reading pauses above it.
  size_t max_queued_bytes = 4 * 1024 * 1024;
};

struct FaultProxyStats {
  // Connections accepted, including those reset at once by Reset(true).
  int64_t accepted = 0;
  int64_t refused = 0;
  int64_t open = 0;
  // Connections the proxy closed with RST (Reset(), kReset rules, resumption after kDrop,
  // a side that failed while the other was still open).
  int64_t resets = 0;
  // Bytes delivered to the target / to the client.
  int64_t bytes_upstream = 0;
  int64_t bytes_downstream = 0;
  // Bytes discarded by kDrop.
  int64_t dropped_upstream = 0;
  int64_t dropped_downstream = 0;
  // Connections tagged per sender (sender classification), since the start.
  std::map<std::string, int64_t> tagged = {};
};

// One thread polls the listening socket and every connection (nonblocking sockets). Every
// setter may be called from any thread at any time; it applies to existing and new
// connections and returns once the proxy thread has applied it (nothing is forwarded under
// the old setting after it returns). Settings of the two directions are independent.
// The destructor closes every connection and joins the thread within a bounded time,
// whatever the mode.
class FaultProxy {
 public:
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(FaultProxyOptions options);

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  ~FaultProxy();

  int port() const;
  int target_port() const;
  // "127.0.0.1:PORT" of the listening socket.
  std::string address() const;

  // Back to a plain proxy: no black hole, delay or throttle in either direction, new
  // connections accepted, every sender rule removed.
  void Pass();

  // Stops forwarding in one or both directions; connections stay open and new ones are
  // accepted (TCP up) but nothing is forwarded. A FIN or a failure of one side is not passed
  // on while the direction carrying it is black-holed (the other side is reset once it is
  // not).
  void SetBlackHole(Direction direction, BlackHole mode);
  void SetBlackHole(BlackHole mode);

  // Each chunk is forwarded no earlier than `delay` after it was read; order is kept and
  // throughput is not limited by the delay (up to max_queued_bytes in flight).
  void SetDelay(Direction direction, absl::Duration delay);
  void SetDelay(absl::Duration delay);

  // At most `bytes_per_second` per connection in that direction; 0 removes the limit.
  void SetThrottle(Direction direction, int64_t bytes_per_second);
  void SetThrottle(int64_t bytes_per_second);

  // Closes every current connection with RST (SO_LINGER 0). With refuse_new, new connections
  // are accepted and reset at once until Pass() or SetRefuseNew(false).
  void Reset(bool refuse_new = false);
  void SetRefuseNew(bool refuse);

  // The rule for connections tagged with `sender`; untagged connections and senders without
  // a rule follow the proxy-wide settings. A proxy-wide black hole takes precedence.
  // kReset resets the sender's connections and every new one as soon as it is tagged.
  void SetSenderRule(const std::string& sender, SenderRule rule);
  void ClearSenderRules();

  FaultProxyStats stats() const;

 private:
  class Impl;
  explicit FaultProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_FAULT_PROXY_H_
