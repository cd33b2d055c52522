// StreamDriver's opening and closing of calls: picking the endpoint, waiting
// for its channel, token and version, and after a break the verdict on the
// endpoint and the wait before the next call.
#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "lib/internal/grpc_status.h"
#include "lib/internal/stream_driver.h"

namespace etcdgrpc::internal {

// A channel left in TRANSIENT_FAILURE by fail-fast calls is not always
// retried by gRPC 1.51 on its own: after an etcd member restart it kept
// failing with "tcp handshaker shutdown" for as long as we looked, while a
// wait_for_ready call brought it back at once. So ask it to connect and wait
// (bounded, in slices that notice a shutdown) as such a call would.
void StreamDriver::AwaitChannel(grpc::Channel& channel, absl::Duration max) {
  const absl::Time deadline = absl::Now() + max;
  while (!IsShutdown()) {
    const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return;
    const absl::Time now = absl::Now();
    if (now >= deadline) return;
    channel.WaitForStateChange(
        state, absl::ToChronoTime(std::min(deadline, now + absl::Milliseconds(50))));
  }
}

void StreamDriver::Connect() {
  const size_t index =
      avoid_.has_value() ? connection_.PickEndpointAvoiding(*avoid_) : connection_.PickEndpoint();
  avoid_.reset();
  EndpointStubs& endpoint = connection_.endpoint(index);
  if (endpoint.channel != nullptr) AwaitChannel(*endpoint.channel, absl::Seconds(1));
  if (connection_.NeedsToken()) {
    // Connect() did not authenticate (no dial timeout): get the first
    // token. A failure shows as the stream's own error below.
    (void)connection_.RefreshToken(0, absl::Now() + connection_.request_timeout(), &cancel_slot_);
  }
  // Only on a ready channel: on one still connecting the question would wait
  // out its time-out, and an unknown version is taken for an early-answering
  // one anyway.
  if (options_.learn_version_timeout > absl::ZeroDuration() &&
      connection_.progress_safety(index) == Connection::ProgressSafety::kUnknown &&
      (endpoint.channel == nullptr || endpoint.channel->GetState(false) == GRPC_CHANNEL_READY)) {
    if (!connection_.LearnVersion(index, options_.learn_version_timeout, &cancel_slot_)) {
      // It did not answer a status request: do not open the stream there.
      connection_.ReportFailure(index, "no answer to a status request");
      avoid_ = index;
      return;
    }
  }
  auto context = std::make_unique<grpc::ClientContext>();
  const uint64_t token = connection_.PrepareStreamContext(context.get());
  {
    MutexLock lock(&state_mu_);
    if (shutdown_) return;
    context_ = context.get();
    endpoint_ = endpoint.address;
    stall_reason_.clear();
    // With the context, so that Break() sees which stream it judges.
    if (opens_.fetch_add(1, std::memory_order_relaxed) > 0) {
      const auto reason = static_cast<size_t>(last_break_);
      metrics_.reconnects[reason].Increment();
      if (index != call_index_) metrics_.failovers[reason].Increment();
    }
    metrics_.opens.Increment();
    SetState(StreamState::kConnecting);
  }
  call_index_ = index;
  call_index_atomic_.store(index, std::memory_order_relaxed);
  std::unique_ptr<Call> call = hooks_->Open(endpoint, context.get());
  {
    MutexLock lock(&state_mu_);
    SetState(StreamState::kOpen);
  }
  opened_at_ = MonoNow();
  last_activity_ns_.store(absl::ToUnixNanos(opened_at_), std::memory_order_relaxed);
  {
    MutexLock lock(&write_mu_);
    stream_ = call.get();
    stream_context_ = context.get();
    open_ = true;
    queue_->clear();
    hooks_->OnOpen(*queue_);
    writer_wake_ = opened_at_;  // the writer ticks once and learns what is next
    write_cv_.Notify();
  }
  call_ = std::move(call);
  call_context_ = std::move(context);
  call_token_ = token;
  received_ = false;
}

void StreamDriver::FinishAndWait() {
  {
    MutexLock lock(&write_mu_);
    open_ = false;
    queue_->clear();
    // A broken call fails a Write() in progress promptly; cancel it if not.
    finishing_ = true;
    if (!write_cv_.WaitUntil(write_mu_, MonoNow() + absl::Milliseconds(100),
                             [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !writing_; })) {
      call_context_->TryCancel();
      write_cv_.Wait(write_mu_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !writing_; });
    }
    finishing_ = false;
    stream_ = nullptr;
    stream_context_ = nullptr;
  }
  const grpc::Status status = call_->Finish();
  call_.reset();
  const std::string address = connection_.endpoint(call_index_).address;
  std::string stall;
  {
    MutexLock lock(&state_mu_);
    context_ = nullptr;
    stall.swap(stall_reason_);
    if (shutdown_) return;
  }
  call_context_.reset();
  last_break_ = !stall.empty()                                         ? StreamBreak::kStall
                : status.error_code() == grpc::StatusCode::UNAVAILABLE ? StreamBreak::kUnavailable
                : status.ok()                                          ? StreamBreak::kServerEnded
                                                                       : StreamBreak::kError;
  if (!stall.empty()) {
    connection_.ReportFailure(call_index_, stall);
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    connection_.ReportFailure(call_index_, status.error_message());
  }
  // A stream's token is fixed when it opens: when etcd refused it (expired,
  // or forgotten by a restarted etcd), reopen with a new one.
  if (token_refused_.exchange(false, std::memory_order_relaxed) ||
      (connection_.has_credentials() && Connection::IsTokenRefused(status))) {
    if (absl::Status s = connection_.RefreshToken(
            call_token_, absl::Now() + connection_.request_timeout(), &cancel_slot_);
        !s.ok()) {
      MutexLock lock(&state_mu_);
      LogStreamTransition(method_, endpoint_, state_, state_, s.ToString());
    }
  }
  // A stream that worked for a while starts the backoff over.
  if (received_ || MonoNow() - opened_at_ > absl::Seconds(1)) backoff_.Reset();
  absl::Status broken = FromGrpcStatus(status, address, method_);
  if (!stall.empty()) {
    broken = absl::UnavailableError(absl::StrCat(stall, " [", address, " ", method_, "]"));
  } else if (status.ok()) {
    broken = absl::UnavailableError("the server ended the stream");
  }
  hooks_->OnBroken(broken);
  if (!stall.empty() && connection_.size() > 1) {
    // Stuck, not refused: go to another endpoint at once.
    avoid_ = call_index_;
    MutexLock lock(&state_mu_);
    SetState(StreamState::kBackingOff, broken.ToString());
    return;
  }
  WaitBeforeReconnect(broken);
}

void StreamDriver::WaitBeforeReconnect(const absl::Status& broken) {
  const absl::Duration delay = backoff_.Next();
  grpc::Channel* channel = connection_.endpoint(call_index_).channel.get();
  // A stream that broke on a working connection (the server ended it) waits
  // out the backoff; one that lost its connection reopens as soon as the
  // channel is READY again, so the stream is back as soon as etcd is (the
  // backoff may have grown to seconds during a long outage).
  const bool connection_lost = channel != nullptr && channel->GetState(false) != GRPC_CHANNEL_READY;
  {
    MutexLock lock(&state_mu_);
    SetState(StreamState::kBackingOff, broken.ToString());
    if (!connection_lost) {
      shutdown_cv_.WaitUntil(state_mu_, MonoNow() + delay,
                             [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return shutdown_; });
      return;
    }
  }
  AwaitChannel(*channel, delay);
}

}  // namespace etcdgrpc::internal
