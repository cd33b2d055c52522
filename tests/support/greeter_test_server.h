// In-process Greeter servers (examples/greeter/greeter.proto) on free ports for the tests and
// benchmarks of balanced calls, the resolver's health checks and ejection, and the balancing
// channel: each answers as told (OK, UNAVAILABLE, RESOURCE_EXHAUSTED, or slowly; for every
// request or only for some names), serves gRPC's default health service, and counts the calls
// it got and the slow ones cancelled.
#ifndef ETCDGRPC_TESTS_SUPPORT_GREETER_TEST_SERVER_H_
#define ETCDGRPC_TESTS_SUPPORT_GREETER_TEST_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace etcdgrpc::testing {

enum class GreeterBehavior {
  kOk,
  // UNAVAILABLE "shedding on purpose", from the handler (the request reached the server).
  kUnavailable,
  kResourceExhausted,
  // Answers OK after slow_for() unless cancelled first (the client's deadline or TryCancel).
  kSlow,
};

class TestGreeterServer {
 public:
  // Listening and serving on <host>:<free port> (an IP address; "::1" for IPv6); its replies
  // carry `id` as instance_id.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TestGreeterServer>> Start(
      std::string id, const std::string& host = "127.0.0.1");
  ~TestGreeterServer();
  TestGreeterServer(const TestGreeterServer&) = delete;
  TestGreeterServer& operator=(const TestGreeterServer&) = delete;

  [[nodiscard]] const std::string& id() const;
  // "127.0.0.1:PORT" ("[::1]:PORT" for IPv6).
  [[nodiscard]] const std::string& address() const;
  [[nodiscard]] int port() const;

  void set_behavior(GreeterBehavior behavior);
  // Requests whose name is `request_name` get `behavior` instead of set_behavior()'s.
  void set_behavior_for(std::string request_name, GreeterBehavior behavior);
  void set_slow_for(absl::Duration slow_for);
  // With kSlow: only calls that take one of these (shared by several servers) are slow; the
  // others answer at once. Null (the default): every call is slow.
  void set_slow_budget(std::shared_ptr<std::atomic<int>> budget);

  // Calls that reached the handler.
  [[nodiscard]] int calls() const;
  // Slow calls that ended because the client cancelled them (deadline or TryCancel).
  [[nodiscard]] int cancelled() const;
  // When the last call reached the handler (MonoNow()); InfinitePast before the first.
  [[nodiscard]] absl::Time last_call() const;
  // The grpc.health.v1 status of every name the server knows ("" and "greeter.Greeter" from
  // the start, SERVING; unknown names are SERVICE_UNKNOWN).
  void SetServing(bool serving);
  // The status of one health service name (one it did not know yet included).
  void SetServing(const std::string& service_name, bool serving);

  // Stops serving: calls in flight are cancelled, new ones fail to connect.
  void Shutdown();

 private:
  class Service;
  TestGreeterServer();
  std::unique_ptr<Service> service_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_GREETER_TEST_SERVER_H_
