// The call engine: every unary RPC (rpcs.h) goes through CallUnary or
// CallUnaryAsync, which share one decision (UnaryCallPlan): deadline and
// metadata, the auth token, which endpoint each attempt goes to, and the
// retry rule (a call that is safe to repeat moves to the next endpoint on
// UNAVAILABLE; a write is sent at most once unless the client allows
// retrying writes; a refused token is renewed and the call repeated once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "lib/internal/async_calls.h"
#include "lib/internal/connection.h"
#include "lib/internal/rpcs.h"

namespace etcdgrpc::internal {

// Feeds the endpoint's health record with the outcome of one attempt. A call
// that ran into its deadline (etcd answers in milliseconds) or found the
// endpoint unavailable counts against the endpoint; any answer from etcd,
// an error included, shows it alive.
void NoteOutcome(Connection& connection, size_t index, const grpc::Status& status);

absl::Status ClosedError();

struct CallOptions {
  // Overrides the RPC's own rule (a read-only Txn is safe to repeat).
  std::optional<Retry> retry = {};
  // Only this endpoint (an index into the connection), no other: a call
  // that asks one member about itself (Status).
  std::optional<size_t> endpoint = {};
  // The call's deadline, counted from when the plan is made, instead of the
  // client's request time-out; absl::InfiniteDuration(): none (a snapshot).
  std::optional<absl::Duration> timeout = {};
  // The wall clock the retry rule reads (the deadline is gRPC's, on the wall
  // clock); a test sets its own.
  absl::Time (*now)() = absl::Now;
};

// One call's attempts. Not thread-safe: the synchronous path uses it on the
// caller's thread, the asynchronous one on whichever thread runs the
// previous attempt's completion.
class UnaryCallPlan {
 public:
  UnaryCallPlan(Connection& connection, absl::string_view method, Retry retry,
                const CallOptions& options);

  // Before the first attempt: fails when the client is closed or the first
  // auth token cannot be had (this blocks for one round trip, once).
  [[nodiscard]] absl::Status Begin();
  // Prepares `context` for the next attempt (deadline, metadata, token,
  // wait-for-ready) and returns the endpoint it goes to.
  EndpointStubs& Next(grpc::ClientContext* context);
  // Judges an attempt's outcome: true when the call is over (`*result` is
  // then OK or the error for the caller), false when it must be made again
  // (call Next with a new context).
  [[nodiscard]] bool Finished(const grpc::Status& status, absl::Status* result);

  absl::Time deadline() const { return deadline_; }

 private:
  // Records the finished call (metrics on only).
  void Record(const grpc::Status& status) const;

  Connection& connection_;
  const absl::string_view method_;
  const CallOptions options_;
  const absl::Time deadline_;
  const size_t attempts_;
  size_t attempt_ = 0;
  size_t index_ = 0;
  // Token generation of the current attempt's context, and whether the call
  // was already repeated with a new token.
  uint64_t token_ = 0;
  bool token_refreshed_ = false;
  // Times the call was repeated because etcd's auth store changed under it.
  int auth_revision_repeats_ = 0;
  // When the plan was made, for the latency metric (MonoNow(); unset with metrics off).
  absl::Time started_;
};

template <class Request, class Response>
absl::StatusOr<Response> CallUnary(Connection& connection, const UnaryRpc<Request, Response>& rpc,
                                   const Request& request, const CallOptions& options = {}) {
  UnaryCallPlan plan(connection, rpc.method, options.retry.value_or(rpc.retry), options);
  if (absl::Status s = plan.Begin(); !s.ok()) return s;
  while (true) {
    grpc::ClientContext context;
    EndpointStubs& endpoint = plan.Next(&context);
    Response response;
    const grpc::Status status = rpc.sync(endpoint, &context, request, &response);
    absl::Status result;
    if (plan.Finished(status, &result)) {
      if (!result.ok()) return result;
      return response;
    }
  }
}

// Asynchronous counterpart of CallUnary, on gRPC's callback API.
// `parse(Response&) -> Result` converts the answer; `done` runs exactly once,
// on a gRPC thread (or on the calling thread when the call cannot start).
template <class Request, class Response, class Parse,
          class Result = std::invoke_result_t<Parse, Response&>>
void CallUnaryAsync(Connection& connection, AsyncCalls& calls,
                    const UnaryRpc<Request, Response>& rpc, Request request, Parse parse,
                    std::type_identity_t<absl::AnyInvocable<void(absl::StatusOr<Result>) &&>> done,
                    const CallOptions& options = {}) {
  struct State {
    State(Connection& connection, AsyncCalls& calls, const UnaryRpc<Request, Response>& rpc,
          Request request, Parse parse, absl::AnyInvocable<void(absl::StatusOr<Result>) &&> done,
          const CallOptions& options)
        : plan(connection, rpc.method, options.retry.value_or(rpc.retry), options),
          calls(&calls),
          invoke(rpc.async),
          request(std::move(request)),
          parse(std::move(parse)),
          done(std::move(done)) {}

    UnaryCallPlan plan;
    AsyncCalls* calls;
    decltype(rpc.async) invoke;
    Request request;
    Response response;
    std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
    EndpointStubs* endpoint = nullptr;
    Parse parse;
    absl::AnyInvocable<void(absl::StatusOr<Result>) &&> done;

    void Start() {
      invoke(*endpoint, context.get(), &request, &response,
             [this](grpc::Status status) { OnDone(status); });
    }

    void OnDone(const grpc::Status& status) {
      absl::Status result;
      if (!plan.Finished(status, &result)) return Repeat();
      if (!result.ok()) return Finish(std::move(result));
      Finish(parse(response));
    }

    // Repeats the call on a new context.
    void Repeat() {
      auto next = std::make_unique<grpc::ClientContext>();
      endpoint = &plan.Next(next.get());
      calls->Replace(context.get(), next.get());
      context = std::move(next);
      response.Clear();
      Start();
    }

    void Finish(absl::StatusOr<Result> result) {
      std::unique_ptr<State> self(this);
      std::move(done)(std::move(result));
      // Everything the call holds (its context holds a channel reference) is
      // freed before End() lets ~Client go on: a gRPC callback thread that
      // dropped the last channel reference after the client was gone would
      // free the completion queue it polls (gRPC 1.51: SIGSEGV seen in
      // registry_test under load).
      AsyncCalls* const async_calls = calls;
      async_calls->Release(context.get());
      self.reset();
      async_calls->Done();
    }
  };

  auto state = std::make_unique<State>(connection, calls, rpc, std::move(request), std::move(parse),
                                       std::move(done), options);
  if (absl::Status s = state->plan.Begin(); !s.ok()) {
    std::move(state->done)(std::move(s));
    return;
  }
  state->endpoint = &state->plan.Next(state->context.get());
  if (!calls.Begin(state->context.get())) {
    std::move(state->done)(absl::CancelledError("the client is shutting down"));
    return;
  }
  state.release()->Start();
}

}  // namespace etcdgrpc::internal
