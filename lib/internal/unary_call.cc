#include "lib/internal/unary_call.h"

#include "common/clock.h"
#include "lib/internal/auth_token.h"
#include "lib/internal/grpc_status.h"

namespace etcdgrpc::internal {
namespace {
constexpr int kMaxAuthRevisionRepeats = 5;
}  // namespace

void NoteOutcome(Connection& connection, size_t index, const grpc::Status& status) {
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

absl::Status ClosedError() { return absl::CancelledError("the client was closed"); }

UnaryCallPlan::UnaryCallPlan(Connection& connection, absl::string_view method, Retry retry,
                             const CallOptions& options)
    : connection_(connection),
      method_(method),
      options_(options),
      deadline_(options.now() + options.timeout.value_or(connection.request_timeout())),
      attempts_(options.endpoint.has_value() ||
                        (retry == Retry::kWrite && !connection.retry_writes())
                    ? 1
                    : connection.size()) {
  if (connection.metrics() != nullptr) started_ = MonoNow();
}

void UnaryCallPlan::Record(const grpc::Status& status) const {
  ClientMetrics* metrics = connection_.metrics();
  if (metrics == nullptr) return;
  metrics->CallDone(std::string_view(method_.data(), method_.size()),
                    static_cast<int>(status.error_code()),
                    absl::ToDoubleSeconds(MonoNow() - started_));
}

absl::Status UnaryCallPlan::Begin() {
  if (connection_.closed()) return ClosedError();
  if (connection_.NeedsToken()) {
    // The first call without a dial timeout: get the token first.
    if (absl::Status s = connection_.RefreshToken(0, deadline_); !s.ok()) return s;
  }
  return absl::OkStatus();
}

EndpointStubs& UnaryCallPlan::Next(grpc::ClientContext* context) {
  ++attempt_;
  index_ = options_.endpoint.has_value() ? *options_.endpoint : connection_.PickEndpoint();
  token_ = connection_.PrepareContext(context, deadline_);
  // A call waits (within its deadline) for its endpoint to become ready, as
  // etcd's own client does, so that a call made while etcd restarts succeeds
  // once it is back instead of failing at once. With other endpoints left to
  // try, it fails fast instead and the next attempt moves on. A call to one
  // given endpoint reports that endpoint as it is: it does not wait.
  context->set_wait_for_ready(!options_.endpoint.has_value() &&
                              (attempts_ == 1 || attempt_ == attempts_));
  return connection_.endpoint(index_);
}

bool UnaryCallPlan::Finished(const grpc::Status& status, absl::Status* result) {
  NoteOutcome(connection_, index_, status);
  if (status.ok()) {
    *result = absl::OkStatus();
    Record(status);
    return true;
  }
  // The token expired (or etcd restarted and forgot it): etcd refused the
  // call before acting on it, so authenticate again and repeat it, once.
  // On the asynchronous path this blocks a gRPC callback thread for one
  // round trip, once per token expiry.
  // Users or roles changed between etcd reading the call's credentials and
  // applying it ("revision of auth store is old", refused before applying
  // anything): repeat it, with a new token when the client has credentials
  // (a JWT carries the old revision), as it is when its TLS certificate's
  // common name identifies it. A few times, since each change of the auth
  // store in that window refuses it again (etcd's Go client repeats it too).
  if (AuthToken::IsOldRevision(status) && auth_revision_repeats_ < kMaxAuthRevisionRepeats &&
      options_.now() < deadline_) {
    ++auth_revision_repeats_;
    if (connection_.has_credentials()) {
      if (absl::Status s = connection_.RefreshToken(token_, deadline_); !s.ok()) {
        *result = std::move(s);
        Record(status);
        return true;
      }
    }
    --attempt_;
    return false;
  }
  if (!token_refreshed_ && connection_.has_credentials() && Connection::IsTokenRefused(status)) {
    token_refreshed_ = true;
    if (absl::Status s = connection_.RefreshToken(token_, deadline_); !s.ok()) {
      *result = std::move(s);
      Record(status);
      return true;
    }
    --attempt_;
    return false;
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && attempt_ < attempts_ &&
      options_.now() < deadline_ && !connection_.closed()) {
    return false;
  }
  *result = FromGrpcStatus(status, connection_.endpoint(index_).address, method_);
  Record(status);
  return true;
}

}  // namespace etcdgrpc::internal
