// Everything a client owns (connection, timer, runner, the two streams,
// async calls in flight), shared by the Client that Connect() returned and
// the handles Client::Share() gives out (a Registrar, a Resolver), so that no
// destruction order reaches freed memory: destroying the owning Client closes
// the core; its memory goes with the last handle.
#pragma once

#include <memory>
#include <mutex>

#include "common/listener_runner.h"
#include "common/scheduler.h"
#include "etcdgrpc/client_options.h"
#include "lib/internal/async_calls.h"
#include "lib/internal/connection.h"
#include "lib/internal/lease_keeper.h"
#include "lib/internal/watch_stream.h"

namespace etcdgrpc::internal {

class ClientCore {
 public:
  ClientCore(ClientOptions options, std::unique_ptr<Connection> connection);
  ~ClientCore() { Close(); }
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Refuses new calls, cancels the streams and the calls in flight, and
  // joins the client's threads; listeners hear kClientClosed / CANCELLED.
  // Returns promptly whatever the members do (a listener or callback still
  // running is waited for). Idempotent.
  void Close();

  const ClientOptions options;
  // Declared in destruction order's reverse: the timer outlives its slots'
  // users only until Close() has stopped it, and the runner's workers, which
  // post its hand-off checks to the timer, are all joined by Close().
  const std::unique_ptr<Connection> connection;
  const std::unique_ptr<AsyncCalls> async_calls;
  const std::unique_ptr<Scheduler> timer;
  // Runs the user callbacks that come due on the timer (the timer never runs
  // user code), handing its queue to a new worker when one blocks.
  const std::shared_ptr<ListenerRunner> runner;
  const std::unique_ptr<LeaseKeeper> lease_keeper;
  const std::unique_ptr<WatchStream> watch_stream;

 private:
  std::once_flag closed_;
};

}  // namespace etcdgrpc::internal
