// The `ui` command's HTTP server (cpp-httplib): the page at "/", the whole
// state as JSON at "/api/state", and the changes as server-sent events at
// "/events".
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "ui/registry_model.h"

namespace httplib {
class Server;
}  // namespace httplib
namespace etcdgrpc::internal {
class HttpListener;
}  // namespace etcdgrpc::internal

namespace etcdgrpc::cli::ui {

class UiServer {
 public:
  explicit UiServer(RegistryModel& model);
  // Stop().
  ~UiServer();
  UiServer(const UiServer&) = delete;
  UiServer& operator=(const UiServer&) = delete;

  // Binds `host`:`port` (0: a free port) and serves on a thread of its own.
  // UNAVAILABLE naming the address and the system's reason when it cannot
  // bind (a port taken by another process).
  [[nodiscard]] absl::Status Start(const std::string& host, int port);
  // The bound port (after Start()).
  [[nodiscard]] int port() const;
  // Ends every event stream, then the server; returns when its threads are done.
  void Stop();

 private:
  RegistryModel& model_;
  // Configured here; HttpListener takes it on Start().
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<internal::HttpListener> listener_;
};

}  // namespace etcdgrpc::cli::ui
