#include "lib/internal/stream_state.h"

#include <string>

#include "grpc/support/log.h"

namespace etcdgrpc::internal {

absl::string_view StreamStateName(StreamState state) {
  switch (state) {
    case StreamState::kIdle:
      return "idle";
    case StreamState::kConnecting:
      return "connecting";
    case StreamState::kOpen:
      return "open";
    case StreamState::kBackingOff:
      return "backing off";
    case StreamState::kClosed:
      return "closed";
  }
  return "?";
}

void LogStreamTransition(absl::string_view method, absl::string_view endpoint, StreamState from,
                         StreamState to, absl::string_view detail) {
  const std::string line = std::string("etcdgrpc: stream ") + std::string(method) + " to " +
                           std::string(endpoint) + ": " + std::string(StreamStateName(from)) +
                           " -> " + std::string(StreamStateName(to)) +
                           (detail.empty() ? "" : " (" + std::string(detail) + ")");
  gpr_log(GPR_INFO, "%s", line.c_str());
}

}  // namespace etcdgrpc::internal
