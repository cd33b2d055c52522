// An in-process greeter server on 127.0.0.1 (free port) with gRPC's default
// health service, counting the calls it answers: the servers behind the
// resolver's health-check and ejection tests and benchmarks.
#ifndef ETCDGRPC_TESTS_SUPPORT_GREETER_BACKEND_H_
#define ETCDGRPC_TESTS_SUPPORT_GREETER_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace etcdgrpc::testing {

class GreeterBackend {
 public:
  // Serves greeter.Greeter and grpc.health.v1.Health (every name SERVING,
  // "" included; other names are SERVICE_UNKNOWN).
  static absl::StatusOr<std::unique_ptr<GreeterBackend>> Start(std::string id);
  ~GreeterBackend();
  GreeterBackend(const GreeterBackend&) = delete;
  GreeterBackend& operator=(const GreeterBackend&) = delete;

  // "127.0.0.1:PORT".
  std::string address() const;
  // Calls answered so far, and when the last one arrived (MonoNow()).
  int64_t calls() const;
  absl::Time last_call() const;
  // The health status of every name ("" included) the server knows.
  void SetServing(bool serving);
  // Stops the server (calls in progress are cancelled); idempotent.
  void Shutdown();

  class Impl;

 private:
  explicit GreeterBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_GREETER_BACKEND_H_
