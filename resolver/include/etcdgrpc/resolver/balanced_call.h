// Calls through a Balancer with a generated stub: pick, call with a
// per-attempt and an overall deadline, report the outcome (PickResult::Done),
// retry on another endpoint per a RetryPolicy, hedge reads. Synchronous and
// asynchronous forms. docs/calls.md has the rules and figures.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/call_engine.h"
#include "etcdgrpc/resolver/call_policy.h"
#include "etcdgrpc/resolver/call_result.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver {

// `Stub` is a generated stub class (greeter::Greeter::Stub). Thread-safe; keep
// one per service and stub type: it caches a stub per endpoint channel.
//
//   BalancedStub<greeter::Greeter::Stub> greeter(balancer, policy);
//   CallResult result = greeter.Call(&greeter::Greeter::Stub::SayHello, request, &reply);
//   greeter.CallAsync(&greeter::Greeter::Stub::async::SayHello, request, &reply,
//                     [](CallResult result) { ... });
//
// The request and response must stay alive until Call returns or the
// CallAsync callback has been called.
template <class Stub>
class BalancedStub {
 public:
  explicit BalancedStub(std::shared_ptr<Balancer> balancer, CallPolicy policy = {})
      : balancer_(std::move(balancer)),
        policy_(std::move(policy)),
        stubs_(std::make_shared<call_engine::StubCache>(&MakeStub)),
        threads_(call_engine::SharedCallThreads()) {}

  [[nodiscard]] const CallPolicy& policy() const { return policy_; }
  [[nodiscard]] Balancer& balancer() const { return *balancer_; }
  // Stubs cached now, one per channel used (tests).
  [[nodiscard]] size_t cached_stubs() const { return stubs_->size(); }

  // Blocks until the call ends (within the policy's overall timeout, plus a
  // wait for the last attempt's cancellation). The blocking form: no hedging
  // (INVALID_ARGUMENT); use the async method below for that.
  template <class Req, class Resp>
  [[nodiscard]] CallResult Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                                             Resp*),
                                const Req& request, Resp* response) const {
    return Call(method, request, response, policy_);
  }
  template <class Req, class Resp>
  [[nodiscard]] CallResult Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                                             Resp*),
                                const Req& request, Resp* response,
                                const CallPolicy& policy) const {
    if (policy.hedging.has_value()) return HedgingNeedsAsync();
    return call_engine::RunSyncCall(
        *balancer_, policy, Label<Req, Resp>(),
        [&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* context) {
          const std::shared_ptr<void> stub = stubs_->Get(channel);
          return (static_cast<Stub*>(stub.get())->*method)(context, request, response);
        });
  }

  // Blocks until the call ends, driving it through the callback API: the
  // form that hedges (&Stub::async::Method).
  template <class Async, class Req, class Resp>
  [[nodiscard]] CallResult Call(void (Async::*method)(grpc::ClientContext*, const Req*, Resp*,
                                                      std::function<void(grpc::Status)>),
                                const Req& request, Resp* response,
                                const CallPolicy& policy) const {
    return call_engine::RunAsyncCallAndWait(threads_, balancer_, policy, Label<Req, Resp>(),
                                            MakeAttempts(method, request, response, policy));
  }
  template <class Async, class Req, class Resp>
  [[nodiscard]] CallResult Call(void (Async::*method)(grpc::ClientContext*, const Req*, Resp*,
                                                      std::function<void(grpc::Status)>),
                                const Req& request, Resp* response) const {
    return Call(method, request, response, policy_);
  }

  // Returns at once; `done` is called exactly once, with the result, after
  // every attempt of the call has ended (the request and response are not
  // used after that). Where it runs: on a gRPC callback thread when the
  // last attempt's answer decides the call; on the process's call runner
  // (never a timer, never the calling thread) when a bad policy, the overall
  // deadline or a lack of endpoints does. A `done` that throws is caught and
  // logged; it harms no other call. Do not block in it: gRPC's callback
  // threads are shared. `done` itself (with its captures) and the call's
  // references to the endpoint's channel are freed later, off gRPC's
  // threads, so the caller may drop the stub, balancer, resolver and client
  // as soon as its last callback has run.
  template <class Async, class Req, class Resp>
  void CallAsync(void (Async::*method)(grpc::ClientContext*, const Req*, Resp*,
                                       std::function<void(grpc::Status)>),
                 const Req& request, Resp* response, std::function<void(CallResult)> done,
                 const CallPolicy& policy) const {
    call_engine::StartAsyncCall(threads_, balancer_, policy, Label<Req, Resp>(),
                                MakeAttempts(method, request, response, policy), std::move(done));
  }
  template <class Async, class Req, class Resp>
  void CallAsync(void (Async::*method)(grpc::ClientContext*, const Req*, Resp*,
                                       std::function<void(grpc::Status)>),
                 const Req& request, Resp* response, std::function<void(CallResult)> done) const {
    CallAsync(method, request, response, std::move(done), policy_);
  }

 private:
  static std::shared_ptr<void> MakeStub(const std::shared_ptr<grpc::ChannelInterface>& channel) {
    return std::make_shared<Stub>(channel);
  }

  template <class Req, class Resp>
  static const std::string& Label() {
    static const std::string label =
        call_engine::MethodLabel(Req::descriptor(), Resp::descriptor());
    return label;
  }

  template <class Async, class Req, class Resp>
  std::unique_ptr<call_engine::AsyncAttempts> MakeAttempts(
      void (Async::*method)(grpc::ClientContext*, const Req*, Resp*,
                            std::function<void(grpc::Status)>),
      const Req& request, Resp* response, const CallPolicy& policy) const {
    static_assert(std::is_same_v<Async*, decltype(std::declval<Stub&>().async())>,
                  "pass &Stub::async::Method of this BalancedStub's Stub");
    return std::make_unique<TypedAttempts<Async, Req, Resp>>(
        stubs_, method, &request, response,
        policy.hedging.has_value() ? std::max(policy.retry.max_attempts, 0) : 0);
  }

  static CallResult HedgingNeedsAsync() {
    CallResult result;
    result.status = absl::InvalidArgumentError(
        "CallPolicy.hedging: hedging needs the callback form of the method "
        "(&Stub::async::Method), the blocking one cannot have two attempts in flight");
    return result;
  }

  // The attempts of one asynchronous call. With hedging, each attempt has a
  // response of its own and the winner's is swapped into the caller's;
  // without, attempts follow one another and write the caller's directly.
  template <class Async, class Req, class Resp>
  class TypedAttempts final : public call_engine::AsyncAttempts {
   public:
    using Method = void (Async::*)(grpc::ClientContext*, const Req*, Resp*,
                                   std::function<void(grpc::Status)>);
    TypedAttempts(std::shared_ptr<call_engine::StubCache> stubs, Method method, const Req* request,
                  Resp* response, int own_responses)
        : stubs_(std::move(stubs)),
          method_(method),
          request_(request),
          response_(response),
          own_(static_cast<size_t>(own_responses)) {}

    void Start(int slot, const std::shared_ptr<grpc::Channel>& channel,
               grpc::ClientContext* context, std::function<void(grpc::Status)> done) override {
      Resp* out = response_;
      if (!own_.empty()) {
        own_[static_cast<size_t>(slot)] = std::make_unique<Resp>();
        out = own_[static_cast<size_t>(slot)].get();
      }
      const std::shared_ptr<void> stub = stubs_->Get(channel);
      (static_cast<Stub*>(stub.get())->async()->*method_)(context, request_, out, std::move(done));
    }
    void Adopt(int slot) override {
      if (!own_.empty()) response_->Swap(own_[static_cast<size_t>(slot)].get());
    }

   private:
    const std::shared_ptr<call_engine::StubCache> stubs_;
    const Method method_;
    const Req* const request_;
    Resp* const response_;
    // One per attempt when hedging (indexed by slot; each written by its own
    // Start only), empty otherwise.
    std::vector<std::unique_ptr<Resp>> own_;
  };

  const std::shared_ptr<Balancer> balancer_;
  const CallPolicy policy_;
  const std::shared_ptr<call_engine::StubCache> stubs_;
  const std::shared_ptr<call_engine::CallThreads> threads_;
};

}  // namespace etcdgrpc::resolver
