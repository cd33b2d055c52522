// What a client can tell about itself: its two streams (state, endpoint,
// reconnects, stalls) and the health of each endpoint, for monitoring and
// tests (Client::stats()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

struct ETCDGRPC_EXPORT StreamStats {
  // "idle" (not used yet), "connecting", "open", "backing off", "closed".
  std::string state;
  // The endpoint of the current or last stream.
  std::string endpoint;
  // Streams opened (1 + reconnects and failovers).
  uint64_t opens = 0;
  // Streams broken because the member stopped answering (a renewal or probe
  // unanswered, a write that did not complete).
  uint64_t stalls = 0;
  // Reading handed to a new thread because a listener blocked.
  uint64_t handoffs = 0;
  // Reader threads alive: 1, plus one per listener blocked at this moment.
  size_t reader_threads = 0;
};

struct ETCDGRPC_EXPORT KeepAliveStreamStats : StreamStats {
  uint64_t requests_sent = 0;
  uint64_t responses = 0;
  // Kept leases reported lost (any reason, client closing included).
  uint64_t leases_lost = 0;
  size_t kept_leases = 0;
};

struct ETCDGRPC_EXPORT WatchStreamStats : StreamStats {
  uint64_t creates_sent = 0;
  // Progress requests sent because the stream was quiet.
  uint64_t probes_sent = 0;
  size_t watches = 0;
};

// One endpoint as the client sees it: every call and stream feeds it.
struct ETCDGRPC_EXPORT EndpointHealth {
  std::string address;
  // Skipped by new calls and streams while another endpoint is healthy.
  bool suspect = false;
  // How long it stays suspect (zero when it is not).
  absl::Duration suspect_for = absl::ZeroDuration();
  // Failures in a row (reset by any answer) and in all.
  uint32_t consecutive_failures = 0;
  uint64_t failures = 0;
  std::string last_failure;
};

struct ETCDGRPC_EXPORT ClientStats {
  KeepAliveStreamStats keepalive;
  WatchStreamStats watch;
  std::vector<EndpointHealth> endpoints;
};

}  // namespace etcdgrpc
