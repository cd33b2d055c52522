// An HTTP endpoint serving a metrics registry in the Prometheus text format (GET /metrics), on
// cpp-httplib; link etcdgrpc::metrics_http. Users with their own exporter call
// MetricsRegistry::Text() instead.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/metrics.h"

namespace etcdgrpc {

struct ETCDGRPC_EXPORT MetricsHttpOptions {
  // Loopback by default: metrics say what a service talks to. "0.0.0.0" serves every interface.
  std::string host = "127.0.0.1";
  // 0: a free port, chosen by the system (MetricsHttpServer::port() says which).
  int port = 0;
  std::string path = "/metrics";
};

// Serves GET `path` on one thread of its own until destroyed.
class ETCDGRPC_EXPORT MetricsHttpServer {
 public:
  // Listens and starts serving. A port that is taken, or a host that is not a local address,
  // is UNAVAILABLE naming it; nothing else of the process is affected.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      std::shared_ptr<const MetricsRegistry> registry, const MetricsHttpOptions& options = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const;
  // "http://host:port/path".
  std::string url() const;

 private:
  struct Impl;
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdgrpc
