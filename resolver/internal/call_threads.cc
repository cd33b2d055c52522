// CallThreads and the process's shared pair (call_threads.h).
#include "resolver/internal/call_threads.h"

#include "common/mutex.h"

namespace etcdgrpc::resolver::call_engine {

using ::etcdgrpc::internal::ListenerRunner;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

// A callback blocked this long gets the runner's queue handed to a new
// worker (the client's slow_listener_handoff default).
constexpr absl::Duration kHandoff = absl::Milliseconds(200);

CallThreads::CallThreads() : runner_(ListenerRunner::Create(kHandoff, &timer_)) {}

CallThreads::~CallThreads() {
  runner_->Shutdown();
  timer_.Shutdown();
}

std::shared_ptr<CallThreads> SharedCallThreads() {
  // Never destroyed: no destructor races the process's exit.
  static auto* mu = new Mutex;
  static auto* shared = new std::weak_ptr<CallThreads>;
  MutexLock lock(mu);
  std::shared_ptr<CallThreads> threads = shared->lock();
  if (threads == nullptr) {
    threads = std::make_shared<CallThreads>();
    *shared = threads;
  }
  return threads;
}

}  // namespace etcdgrpc::resolver::call_engine
