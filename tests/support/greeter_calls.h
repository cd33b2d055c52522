// What the balanced-call tests and benchmarks call their test greeter servers with: the
// callback overload of SayHello and the seed call policy. Header-only, for targets
// that link the resolver and etcdgrpc_greeter_test_server.
#ifndef ETCDGRPC_TESTS_SUPPORT_GREETER_CALLS_H_
#define ETCDGRPC_TESTS_SUPPORT_GREETER_CALLS_H_

#include <functional>

#include "absl/time/time.h"
#include "etcdgrpc/resolver/call_policy.h"
#include "greeter.grpc.pb.h"

namespace etcdgrpc::testing {

// The callback overload of SayHello (the method also has a reactor one).
inline constexpr void (greeter::Greeter::Stub::async::*kSayHelloAsync)(
    grpc::ClientContext*, const greeter::HelloRequest*, greeter::HelloReply*,
    std::function<void(grpc::Status)>) = &greeter::Greeter::Stub::async::SayHello;

// The seed: up to 3 retries (4 attempts), 100 ms apart, each on another endpoint.
inline resolver::CallPolicy SeedPolicy() {
  resolver::CallPolicy policy;
  policy.retry.max_attempts = 4;
  policy.retry.backoff = resolver::LinearBackoff(absl::Milliseconds(100));
  policy.idempotent = true;
  return policy;
}

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_GREETER_CALLS_H_
