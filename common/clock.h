// The library's clock for its own deadlines (lease deadlines, stall and probe
// time-outs, timer wake-ups): monotonic, so a step of the wall clock neither
// expires nor keeps a lease. gRPC call deadlines stay on the wall clock, which
// is what ClientContext::set_deadline() takes.
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/time/time.h"

namespace etcdgrpc::internal {

// Now on the monotonic clock (steady_clock), as an absl::Time on an arbitrary
// epoch: differences and comparisons with other MonoNow() values are
// meaningful, the value itself is not a date.
inline absl::Time MonoNow() {
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  return absl::FromUnixNanos(ns);
}

// A MonoNow() time as a steady_clock time point, for waits.
inline std::chrono::steady_clock::time_point ToSteady(absl::Time mono) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(absl::ToUnixNanos(mono)));
}

}  // namespace etcdgrpc::internal
