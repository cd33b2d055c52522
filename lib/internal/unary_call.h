// How every unary call is made, synchronously or asynchronously: deadline and
// metadata, conversion of the status, and the retry rule (a call that is safe
// to repeat moves to the next endpoint on UNAVAILABLE; a write is sent at most
// once unless the client allows retrying writes).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "lib/internal/async_calls.h"
#include "lib/internal/connection.h"
#include "lib/internal/grpc_status.h"

namespace etcdgrpc::internal {

enum class Retry {
  kSafe,   // reads: repeating cannot change anything
  kWrite,  // writes: repeat only if ClientOptions::retry_writes
};

inline bool MayRetry(const Connection& connection, Retry retry) {
  return retry == Retry::kSafe || connection.retry_writes();
}

// A call waits (within its deadline) for its endpoint to become ready, as
// etcd's own client does, so that a call made while etcd restarts succeeds
// once it is back instead of failing at once. With other endpoints left to
// try, it fails fast instead and the next attempt moves on.
inline bool WaitForReady(const Connection& connection, size_t attempt, size_t attempts) {
  return connection.size() == 1 || attempt == attempts;
}

// Feeds the endpoint's health record with the outcome of one attempt. A call
// that ran into its deadline (etcd answers in milliseconds) or found the
// endpoint unavailable counts against the endpoint; any answer from etcd,
// an error included, shows it alive.
inline void NoteOutcome(Connection& connection, size_t index, const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      connection.ReportFailure(index, status.error_message());
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      connection.ReportFailure(index, "a call ran into its deadline");
      break;
    case grpc::StatusCode::CANCELLED:
      break;
    default:
      connection.ReportHealthy(index);
  }
}

inline absl::Status ClosedError() { return absl::CancelledError("the client was closed"); }

// `invoke(EndpointStubs&, grpc::ClientContext*, Response*) -> grpc::Status`
// makes one attempt on one endpoint.
template <class Response, class Invoke>
absl::StatusOr<Response> CallUnary(Connection& connection, absl::string_view method, Retry retry,
                                   Invoke&& invoke) {
  if (connection.closed()) return ClosedError();
  const absl::Time deadline = connection.UnaryDeadline();
  const size_t attempts = MayRetry(connection, retry) ? connection.size() : 1;
  if (connection.NeedsToken()) {
    if (absl::Status s = connection.RefreshToken(0, deadline); !s.ok()) return s;
  }
  bool token_refreshed = false;
  for (size_t attempt = 1;; ++attempt) {
    const size_t index = connection.PickEndpoint();
    EndpointStubs& endpoint = connection.endpoint(index);
    grpc::ClientContext context;
    const uint64_t token = connection.PrepareContext(&context, deadline);
    context.set_wait_for_ready(WaitForReady(connection, attempt, attempts));
    Response response;
    grpc::Status status = invoke(endpoint, &context, &response);
    NoteOutcome(connection, index, status);
    if (status.ok()) return response;
    // The token expired (or etcd restarted and forgot it): etcd refused the
    // call before acting on it, so authenticate again and repeat it, once.
    if (!token_refreshed && connection.has_credentials() && Connection::IsTokenRefused(status)) {
      token_refreshed = true;
      if (absl::Status s = connection.RefreshToken(token, deadline); !s.ok()) return s;
      --attempt;
      continue;
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && attempt < attempts &&
        absl::Now() < deadline && !connection.closed()) {
      continue;
    }
    return FromGrpcStatus(status, endpoint.address, method);
  }
}

// Asynchronous counterpart of CallUnary, on gRPC's callback API.
// `invoke(EndpointStubs&, grpc::ClientContext*, const Request*, Response*,
//         std::function<void(grpc::Status)>)` starts one attempt;
// `parse(Response&) -> Result` converts the answer; `done` runs exactly once.
template <class Request, class Response, class Result, class Invoke, class Parse>
void CallUnaryAsync(Connection& connection, AsyncCalls& calls, absl::string_view method,
                    Retry retry, Request request, Invoke invoke, Parse parse,
                    absl::AnyInvocable<void(absl::StatusOr<Result>) &&> done) {
  struct State {
    Connection* connection;
    AsyncCalls* calls;
    absl::string_view method;
    size_t attempts;
    size_t attempt = 0;
    size_t index = 0;
    absl::Time deadline;
    // Token generation of the current attempt's context, and whether the
    // call was already repeated with a new token.
    uint64_t token = 0;
    bool token_refreshed = false;
    Request request;
    Response response;
    std::unique_ptr<grpc::ClientContext> context;
    Invoke invoke;
    Parse parse;
    absl::AnyInvocable<void(absl::StatusOr<Result>) &&> done;

    void Start() {
      ++attempt;
      index = connection->PickEndpoint();
      context->set_wait_for_ready(WaitForReady(*connection, attempt, attempts));
      EndpointStubs& endpoint = connection->endpoint(index);
      invoke(endpoint, context.get(), &request, &response,
             [this](grpc::Status status) { OnDone(std::move(status)); });
    }

    void OnDone(grpc::Status status) {
      NoteOutcome(*connection, index, status);
      if (status.ok()) return Finish(parse(response));
      // As in CallUnary: a new token and one repeat. Authenticate blocks this
      // callback thread for one round trip; it happens once per token expiry.
      if (!token_refreshed && connection->has_credentials() && Connection::IsTokenRefused(status)) {
        token_refreshed = true;
        if (absl::Status s = connection->RefreshToken(token, deadline); !s.ok()) {
          return Finish(std::move(s));
        }
        --attempt;
        return Repeat();
      }
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE && attempt < attempts &&
          absl::Now() < deadline && !connection->closed()) {
        return Repeat();
      }
      Finish(FromGrpcStatus(status, connection->endpoint(index).address, method));
    }

    // Repeats the call on a new context.
    void Repeat() {
      auto next = std::make_unique<grpc::ClientContext>();
      token = connection->PrepareContext(next.get(), deadline);
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

  if (connection.closed()) {
    std::move(done)(ClosedError());
    return;
  }
  auto state =
      std::make_unique<State>(State{.connection = &connection,
                                    .calls = &calls,
                                    .method = method,
                                    .attempts = MayRetry(connection, retry) ? connection.size() : 1,
                                    .deadline = connection.UnaryDeadline(),
                                    .request = std::move(request),
                                    .response = {},
                                    .context = std::make_unique<grpc::ClientContext>(),
                                    .invoke = std::move(invoke),
                                    .parse = std::move(parse),
                                    .done = std::move(done)});
  if (connection.NeedsToken()) {
    // The first call without a dial timeout: get the token first (blocking).
    if (absl::Status s = connection.RefreshToken(0, state->deadline); !s.ok()) {
      std::move(state->done)(std::move(s));
      return;
    }
  }
  state->token = connection.PrepareContext(state->context.get(), state->deadline);
  if (!calls.Begin(state->context.get())) {
    std::move(state->done)(absl::CancelledError("the client is shutting down"));
    return;
  }
  state.release()->Start();
}

}  // namespace etcdgrpc::internal
