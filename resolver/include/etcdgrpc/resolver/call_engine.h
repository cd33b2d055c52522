// The untyped machinery behind BalancedStub (balanced_call.h): the retry and
// hedging loops, the per-channel stub cache and method names for messages.
// Not for direct use; its declarations may change at any time. Its own
// namespace, not `internal`: the templates call it from the user's code, so a
// shared library must export it (everything in `internal` stays hidden).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/call_policy.h"
#include "etcdgrpc/resolver/call_result.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace google::protobuf {
class Descriptor;
}  // namespace google::protobuf

namespace etcdgrpc::resolver::call_engine {

// One stub per channel, so that a call does not build one (a generated
// stub's constructor registers each of its methods with the channel). A stub
// holds its channel without owning it and is dropped once the channel is
// gone: the cache never keeps an endpoint's channel alive.
class ETCDGRPC_EXPORT StubCache {
 public:
  // Makes a stub on a channel the stub must not own.
  using Factory = std::shared_ptr<void> (*)(const std::shared_ptr<grpc::ChannelInterface>&);
  explicit StubCache(Factory factory);
  ~StubCache();
  StubCache(const StubCache&) = delete;
  StubCache& operator=(const StubCache&) = delete;

  // The stub of `channel`, made on first use. Valid while `channel` lives.
  [[nodiscard]] std::shared_ptr<void> Get(const std::shared_ptr<grpc::Channel>& channel);
  // Stubs held now (tests).
  [[nodiscard]] size_t size() const;

 private:
  struct State;
  const Factory factory_;
  const std::unique_ptr<State> state_;
};

// "/package.Service/Method" for the one method of the messages' files that
// takes `request` and returns `response`; "(request -> response)" when there
// is none or more than one. Errors name the method with it.
[[nodiscard]] ETCDGRPC_EXPORT std::string MethodLabel(const google::protobuf::Descriptor* request,
                                                      const google::protobuf::Descriptor* response);

// One blocking attempt on `channel`, made by the typed face.
using SyncAttempt =
    absl::FunctionRef<grpc::Status(const std::shared_ptr<grpc::Channel>&, grpc::ClientContext*)>;

// The synchronous call: validates `policy`, then picks, attempts, reports
// Done and retries on the calling thread. No hedging (StartAsyncCall does it).
[[nodiscard]] ETCDGRPC_EXPORT CallResult RunSyncCall(Balancer& balancer, const CallPolicy& policy,
                                                     const std::string& method,
                                                     SyncAttempt attempt);

// The attempts of one asynchronous call, made by the typed face.
class ETCDGRPC_EXPORT AsyncAttempts {
 public:
  virtual ~AsyncAttempts() = default;
  // Starts attempt `slot` (0, 1, ...) on `channel` with `context`; gRPC calls
  // `done` exactly once, possibly before Start returns.
  virtual void Start(int slot, const std::shared_ptr<grpc::Channel>& channel,
                     grpc::ClientContext* context, std::function<void(grpc::Status)> done) = 0;
  // Attempt `slot` answered OK and decides the call: its response becomes the
  // caller's. Called once, when no attempt is running any more.
  virtual void Adopt(int slot) = 0;
};

// The timer (backoff and hedging delays) and the runner (callbacks that come
// due on the timer) of asynchronous calls: one pair per process, shared by
// every BalancedStub, started on first use, stopped when the last holder is
// gone.
class CallThreads;
[[nodiscard]] ETCDGRPC_EXPORT std::shared_ptr<CallThreads> SharedCallThreads();

// The asynchronous call (also the synchronous one with hedging): validates
// `policy`, starts the first attempt on the calling thread and calls `done`
// exactly once, after every attempt has ended (see BalancedStub::CallAsync
// for the threads it runs on). `method` is kept by reference: it must outlive
// the call (BalancedStub passes a static string).
ETCDGRPC_EXPORT void StartAsyncCall(std::shared_ptr<CallThreads> threads,
                                    std::shared_ptr<Balancer> balancer, const CallPolicy& policy,
                                    const std::string& method,
                                    std::unique_ptr<AsyncAttempts> attempts,
                                    std::function<void(CallResult)> done);

// StartAsyncCall, waiting on the calling thread for its result.
[[nodiscard]] ETCDGRPC_EXPORT CallResult RunAsyncCallAndWait(
    std::shared_ptr<CallThreads> threads, std::shared_ptr<Balancer> balancer,
    const CallPolicy& policy, const std::string& method, std::unique_ptr<AsyncAttempts> attempts);

}  // namespace etcdgrpc::resolver::call_engine
