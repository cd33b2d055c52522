// MetricsHttpServer (etcdgrpc/metrics_http.h): cpp-httplib's server on one worker thread.
#include "etcdgrpc/metrics_http.h"

#include <httplib.h>

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "metrics_http/http_listener.h"

namespace etcdgrpc {

struct MetricsHttpServer::Impl {
  std::shared_ptr<const MetricsRegistry> registry;
  MetricsHttpOptions options;
  std::unique_ptr<internal::HttpListener> listener;
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    std::shared_ptr<const MetricsRegistry> registry, const MetricsHttpOptions& options) {
  if (registry == nullptr) return absl::InvalidArgumentError("metrics endpoint: no registry");
  if (options.port < 0 || options.port > 65535 || options.path.empty() ||
      options.path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("metrics endpoint: bad port ", options.port,
                                                   " or path \"", options.path, "\""));
  }
  auto impl = std::make_unique<Impl>();
  impl->registry = std::move(registry);
  impl->options = options;
  auto server = std::make_unique<httplib::Server>();
  // A scrape is one request at a time: httplib's default pool would start a thread per core.
  server->new_task_queue = [] { return new httplib::ThreadPool(1); };
  const MetricsRegistry* metrics = impl->registry.get();
  server->Get(options.path, [metrics](const httplib::Request&, httplib::Response& response) {
    const std::string_view type = MetricsRegistry::kTextContentType;
    response.set_content(metrics->Text(), std::string(type).c_str());
  });
  absl::StatusOr<std::unique_ptr<internal::HttpListener>> listener = internal::HttpListener::Start(
      std::move(server), options.host, options.port, "metrics endpoint");
  if (!listener.ok()) return listener.status();
  impl->listener = *std::move(listener);
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl)));
}

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() = default;

int MetricsHttpServer::port() const { return impl_->listener->port(); }

std::string MetricsHttpServer::url() const {
  return absl::StrCat("http://", impl_->options.host, ":", port(), impl_->options.path);
}

}  // namespace etcdgrpc
