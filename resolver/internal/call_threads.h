// The two threads of asynchronous balanced calls, one pair per process
// (SharedCallThreads, call_engine.h): a Scheduler for backoff and hedging
// delays and the polls for a first endpoint, and a ListenerRunner for the
// callbacks those decide, so that the timer never runs user code.
#pragma once

#include <memory>

#include "common/listener_runner.h"
#include "common/scheduler.h"
#include "etcdgrpc/resolver/call_engine.h"

namespace etcdgrpc::resolver::call_engine {

class CallThreads {
 public:
  CallThreads();
  // Runs the callbacks still queued, then stops both threads; may run on
  // either of them (the last holder may be a task or a callback).
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

  ::etcdgrpc::internal::Scheduler& timer() { return timer_; }
  ::etcdgrpc::internal::ListenerRunner& runner() { return *runner_; }

 private:
  ::etcdgrpc::internal::Scheduler timer_;
  std::shared_ptr<::etcdgrpc::internal::ListenerRunner> runner_;
};

}  // namespace etcdgrpc::resolver::call_engine
