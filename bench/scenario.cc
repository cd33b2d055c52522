#include "scenario.h"

#include <utility>

namespace etcdgrpc::bench {

absl::StatusOr<std::unique_ptr<Client>> ConnectClient(const BenchEnv& env,
                                                      std::shared_ptr<MetricsRegistry> metrics) {
  ClientOptions options;
  options.endpoints = env.endpoints;
  options.metrics = std::move(metrics);
  return Client::Connect(options);
}

}  // namespace etcdgrpc::bench
