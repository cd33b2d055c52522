// HttpListener (metrics_http/http_listener.h).
#include "metrics_http/http_listener.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcdgrpc::internal {

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    std::unique_ptr<httplib::Server> server, const std::string& host, int port,
    const std::string& what) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": bad port ", port));
  }
  server->set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  errno = 0;
  const int bound = port == 0                          ? server->bind_to_any_port(host)
                    : server->bind_to_port(host, port) ? port
                                                       : -1;
  if (bound <= 0) {
    const int error = errno;
    char buffer[256];
    return absl::UnavailableError(absl::StrCat(what, ": cannot listen on ", host, ":", port, ": ",
                                               error != 0
                                                   ? strerror_r(error, buffer, sizeof buffer)
                                                   : "the port is taken or the host is not local"));
  }
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(server), bound));
}

HttpListener::HttpListener(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_.store(true);
  });
}

HttpListener::~HttpListener() {
  // httplib 0.11's stop() does nothing before the loop runs (listen_after_bind
  // sets is_running), so wait for that first; it starts at once after the bind.
  while (!server_->is_running() && !listen_returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  thread_.join();
}

}  // namespace etcdgrpc::internal
