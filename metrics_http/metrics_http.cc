// MetricsHttpServer (etcdgrpc/metrics_http.h): cpp-httplib's server on one worker thread.
#include "etcdgrpc/metrics_http.h"

#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcdgrpc {

struct MetricsHttpServer::Impl {
  std::shared_ptr<const MetricsRegistry> registry;
  MetricsHttpOptions options;
  httplib::Server server;
  int port = 0;
  std::atomic<bool> listen_returned{false};
  std::thread thread;
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
  // A scrape is one request at a time: httplib's default pool would start a thread per core.
  impl->server.new_task_queue = [] { return new httplib::ThreadPool(1); };
  // httplib's default sets SO_REUSEPORT: a second process would then share the port silently
  // and take half the scrapes. SO_REUSEADDR alone still refuses a port someone listens on.
  impl->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const MetricsRegistry* metrics = impl->registry.get();
  impl->server.Get(options.path, [metrics](const httplib::Request&, httplib::Response& response) {
    const std::string_view type = MetricsRegistry::kTextContentType;
    response.set_content(metrics->Text(), std::string(type).c_str());
  });
  errno = 0;
  if (options.port == 0) {
    impl->port = impl->server.bind_to_any_port(options.host);
  } else if (impl->server.bind_to_port(options.host, options.port)) {
    impl->port = options.port;
  } else {
    impl->port = -1;
  }
  if (impl->port <= 0) {
    const int error = errno;
    return absl::UnavailableError(absl::StrCat(
        "metrics endpoint: cannot listen on ", options.host, ":", options.port, ": ",
        error != 0 ? std::strerror(error) : "the port is taken or the host is not local"));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->listen_returned.store(true);
  });
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl)));
}

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() {
  // httplib 0.11's stop() does nothing before the loop runs (it sets is_running inside
  // listen_after_bind), so wait for that first; it starts at once after the bind.
  while (!impl_->server.is_running() && !impl_->listen_returned.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  impl_->thread.join();
}

int MetricsHttpServer::port() const { return impl_->port; }

std::string MetricsHttpServer::url() const {
  return absl::StrCat("http://", impl_->options.host, ":", impl_->port, impl_->options.path);
}

}  // namespace etcdgrpc
