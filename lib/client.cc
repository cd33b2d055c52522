#include "etcdgrpc/client.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "lib/internal/client_core.h"

namespace etcdgrpc {

namespace internal {

ClientCore::ClientCore(ClientOptions options_in, std::unique_ptr<Connection> connection_in)
    : options(std::move(options_in)),
      connection(std::move(connection_in)),
      async_calls(std::make_unique<AsyncCalls>()),
      timer(std::make_unique<Scheduler>()),
      runner(ListenerRunner::Create(options.slow_listener_handoff, timer.get())),
      lease_keeper(std::make_unique<LeaseKeeper>(*connection, *timer, *runner, options)),
      watch_stream(std::make_unique<WatchStream>(*connection, *timer, options)) {}

void ClientCore::Close() {
  std::call_once(closed_, [this] {
    // A Client destroyed from inside one of its own callbacks is a misuse,
    // refused the same way on every thread of the client: on a stream's
    // reader it would wait for itself (ThreadSet::JoinAll aborts there). On
    // the runner's worker it would not (the runner does not wait for the
    // calling job), but the client would be freed under the callback still
    // running; abort here too, before closing anything.
    if (runner->IsWorker()) {
      std::fprintf(stderr,
                   "etcdgrpc: a Client was destroyed from inside one of its own callbacks (a "
                   "lease lost at its deadline or a KeepAliveOnce time-out); destroy it from a "
                   "thread of your own\n");
      std::abort();
    }
    connection->Close();
    // The timer first: it only ever does short library work (it never writes
    // and never calls user code), so it stops at once; then the streams, each
    // cancelled before its threads are joined; then the runner: what is
    // queued there still runs, on this thread, once its workers are joined
    // (its hand-off checks, posted to the stopped timer, are dropped).
    timer->Shutdown();
    watch_stream->Shutdown();
    lease_keeper->Shutdown();
    runner->Shutdown();
    async_calls->CancelAllAndWait();
  });
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<internal::Connection>> connection =
      internal::Connection::Dial(options);
  if (!connection.ok()) return connection.status();
  return std::make_unique<Client>(std::move(options), *std::move(connection));
}

Client::Client(ClientOptions options, std::unique_ptr<internal::Connection> connection)
    : Client(std::make_shared<internal::ClientCore>(std::move(options), std::move(connection)),
             /*owner=*/true) {}

Client::Client(std::shared_ptr<internal::ClientCore> core, bool owner)
    : core_(std::move(core)),
      owner_(owner),
      connection_(core_->connection.get()),
      async_calls_(core_->async_calls.get()),
      lease_keeper_(core_, core_->lease_keeper.get()),
      watch_stream_(core_, core_->watch_stream.get()) {}

Client::~Client() {
  if (owner_) core_->Close();
}

std::shared_ptr<Client> Client::Share() {
  return std::shared_ptr<Client>(new Client(core_, /*owner=*/false));
}

bool Client::closed() const { return connection_->closed(); }

const ClientOptions& Client::options() const { return core_->options; }

const std::vector<std::string>& Client::endpoints() const { return connection_->addresses(); }

std::string Client::current_endpoint() const {
  return connection_->addresses()[connection_->current()];
}

ClientStats Client::stats() const {
  ClientStats stats;
  stats.keepalive = lease_keeper_->stats();
  stats.watch = watch_stream_->stats();
  stats.endpoints = connection_->health();
  return stats;
}

}  // namespace etcdgrpc
