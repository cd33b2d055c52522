// The `ui` command's HTTP server (see ui_server.h).
#include "ui/ui_server.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics_http/http_listener.h"
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
  absl::StatusOr<std::unique_ptr<internal::HttpListener>> listener =
      internal::HttpListener::Start(std::move(server_), host, port, "ui");
  if (!listener.ok()) return listener.status();
  listener_ = *std::move(listener);
  return absl::OkStatus();
}

int UiServer::port() const { return listener_ == nullptr ? 0 : listener_->port(); }

void UiServer::Stop() {
  model_.hub().Close();
  listener_.reset();
}

}  // namespace etcdgrpc::cli::ui
