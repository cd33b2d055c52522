// Connecting the tests' clients: one ConnectTo() for the integration tests instead of a copy per
// test file. A test names only what its client sets differently from ClientOptions' defaults
// (TestClientOptions); a failed Connect() is a test failure and a null client, so callers
// `ASSERT_NE(client, nullptr)`. And an endpoint nothing listens on.
#ifndef ETCDGRPC_TESTS_SUPPORT_TEST_CLIENT_H_
#define ETCDGRPC_TESTS_SUPPORT_TEST_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/wire_log.h"

namespace etcdgrpc::testing {

// What a test's client sets; unset fields keep ClientOptions' defaults.
struct TestClientOptions {
  // Deadline of each unary call (ClientOptions: 5 s).
  std::optional<absl::Duration> request_timeout = std::nullopt;
  // Reconnect delays of the watch and keep-alive streams (ClientOptions: 100 ms to 5 s);
  // kFastStreamBackoff for tests that break the streams and wait for them to come back.
  std::optional<BackoffOptions> stream_backoff = std::nullopt;
  // Records every message on the wire when set.
  std::shared_ptr<WireLogSink> wire_log = nullptr;
};

// Streams reconnect after 50 ms, backing off to at most 500 ms.
inline constexpr BackoffOptions kFastStreamBackoff = {.initial = absl::Milliseconds(50),
                                                      .max = absl::Milliseconds(500)};

// A client of `endpoints` with `options`, or nullptr (with a test failure naming the status).
std::unique_ptr<Client> ConnectTo(const std::vector<std::string>& endpoints,
                                  const TestClientOptions& options = {});

// The same with every ClientOptions field the caller's (credentials, TLS, ...).
std::unique_ptr<Client> ConnectWith(const ClientOptions& options);

// "127.0.0.1:PORT" with nothing listening on it (a port bound, read and closed again), for a
// dead endpoint; "" (and a test failure) if no port could be had.
std::string ClosedEndpoint();

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_TEST_CLIENT_H_
