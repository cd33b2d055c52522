// One way to serve a configured cpp-httplib server: bound to host:port without
// SO_REUSEPORT, served on a thread of its own, stopped safely. For the metrics
// endpoint and `etcdgrpc ui`; not installed.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace etcdgrpc::internal {

class HttpListener {
 public:
  // Binds `host`:`port` (0: a free port) and serves `server` (its handlers
  // and task queue set) until destroyed. UNAVAILABLE "<what>: cannot listen on
  // host:port: <reason>" when the port is taken or the host is not local.
  //
  // httplib's default socket options add SO_REUSEPORT, with which a second
  // process binds a taken port too and silently shares its connections; only
  // SO_REUSEADDR is set here.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      std::unique_ptr<httplib::Server> server, const std::string& host, int port,
      const std::string& what);
  // Stops the server and joins its thread.
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  [[nodiscard]] int port() const { return port_; }

 private:
  HttpListener(std::unique_ptr<httplib::Server> server, int port);

  std::unique_ptr<httplib::Server> server_;
  const int port_;
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

}  // namespace etcdgrpc::internal
