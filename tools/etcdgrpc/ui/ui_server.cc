// The `ui` command's HTTP server (see ui_server.h).
#include "ui/ui_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ui/page.h"

namespace etcdgrpc::cli::ui {
namespace {

// A browser hears something at least this often, so a closed one is noticed
// (the write fails) without waiting for a change.
constexpr absl::Duration kPingInterval = absl::Seconds(5);
// The hub's clients plus the page and JSON requests.
constexpr size_t kHttpThreads = SseHubOptions{}.max_clients + 4;

}  // namespace

UiServer::UiServer(RegistryModel& model)
    : model_(model), server_(std::make_unique<httplib::Server>()) {
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second ui on a
  // taken port binds it too and shares its connections instead of failing.
  server_->set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    const std::string_view page = RegistryPage();
    response.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  server_->Get("/api/state", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(DumpJson(model_.State()), "application/json");
  });
  server_->Get("/events", [this](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<SseSubscriber> subscriber = model_.Subscribe();
    if (subscriber == nullptr) {
      response.status = 503;
      response.set_content("too many pages open on this etcdgrpc ui\n", "text/plain");
      return;
    }
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider(
        "text/event-stream",
        [subscriber](size_t /*offset*/, httplib::DataSink& sink) {
          std::string frame;
          switch (subscriber->Pop(kPingInterval, &frame)) {
            case SseSubscriber::Next::kFrame:
              return sink.write(frame.data(), frame.size());
            case SseSubscriber::Next::kIdle:
              return sink.write(": ping\n\n", 8);
            case SseSubscriber::Next::kEnded:
              break;
          }
          // Dropped for falling behind, or the server is stopping: the browser reconnects.
          return false;
        },
        [this, subscriber](bool /*success*/) { model_.hub().Leave(subscriber); });
  });
}

UiServer::~UiServer() { Stop(); }

absl::Status UiServer::Start(const std::string& host, int port) {
  errno = 0;
  const int bound = port == 0                           ? server_->bind_to_any_port(host)
                    : server_->bind_to_port(host, port) ? port
                                                        : -1;
  if (bound <= 0) {
    const int error = errno;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ",
                     error != 0 ? std::strerror(error) : "cannot bind the address"));
  }
  port_ = bound;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Stop() can only end a server that runs; listen_after_bind sets that at once.
  for (int i = 0; i < 1000 && !server_->is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return absl::OkStatus();
}

void UiServer::Stop() {
  model_.hub().Close();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace etcdgrpc::cli::ui
