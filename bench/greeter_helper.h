// The greeter server processes of the balanced-call benchmarks (scenarios_calls.cc), run as a
// mode of etcdgrpc-bench (--concurrency_helper=greeter --helper_name=ID): an in-process test
// Greeter on a free 127.0.0.1 port, registered as service "greeter" under kCallsPrefix, that
// prints "ready <address>" and serves until it is killed.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::bench {

inline constexpr char kCallsPrefix[] = "/bench/calls";

// Never returns unless it fails.
absl::Status RunGreeterHelper(Client& client, const std::string& id);

}  // namespace etcdgrpc::bench
