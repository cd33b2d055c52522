// The explicit state of a client's long-lived stream and where its
// transitions are logged (gRPC's log, at INFO: GRPC_VERBOSITY=INFO shows them).
#pragma once

#include "absl/strings/string_view.h"

namespace etcdgrpc::internal {

enum class StreamState {
  kIdle,        // not started: nothing used it yet
  kConnecting,  // a call is being started on an endpoint
  kOpen,        // the call is up; messages flow
  kBackingOff,  // the call broke; waiting before the next attempt
  kClosed,      // shut down with the client
};

absl::string_view StreamStateName(StreamState state);

void LogStreamTransition(absl::string_view method, absl::string_view endpoint, StreamState from,
                         StreamState to, absl::string_view detail);

}  // namespace etcdgrpc::internal
