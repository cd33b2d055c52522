// One long-lived bidirectional stream of a client (Watch or LeaseKeepAlive),
// driven by a dedicated reader thread blocked in the synchronous Read(). It
// reconnects after a break with jittered exponential backoff, moving to the
// next endpoint when the current one is unavailable, and serializes writes so
// that a group of messages goes out as one burst (buffer_hint on all but the
// last, so gRPC flushes once). DESIGN.md, "Streams", says why.
//
// A handler call (which runs listeners) that blocks for longer than
// `handoff_after` does not stall the stream: a watchdog on the client's timer
// starts a new reader thread that carries on reading, and the blocked thread
// ends once the call returns. So the reader is one thread, plus one per
// listener blocked at that moment.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "internal/backoff.h"
#include "internal/connection.h"
#include "internal/grpc_status.h"
#include "internal/mutex.h"
#include "internal/stream_state.h"
#include "internal/timer.h"

namespace etcdgrpc::internal {

template <class Request, class Response>
class BidiStream : public Timer::Slot {
 public:
  using ReaderWriter = grpc::ClientReaderWriterInterface<Request, Response>;
  // Starts the call on one endpoint's stubs.
  using Opener = std::function<std::unique_ptr<ReaderWriter>(EndpointStubs&, grpc::ClientContext*)>;

  // Writes to the open stream; only valid inside WithWriter() or OnOpen().
  class Writer {
   public:
    explicit Writer(ReaderWriter* stream) : stream_(stream) {}
    // Writes the messages as one burst. False once the stream is broken.
    bool WriteBurst(absl::Span<const Request> messages) {
      for (size_t i = 0; i < messages.size(); ++i) {
        grpc::WriteOptions options;
        if (i + 1 < messages.size()) options.set_buffer_hint();
        if (!stream_->Write(messages[i], options)) return false;
      }
      return true;
    }
    bool Write(const Request& message) { return stream_->Write(message); }

   private:
    ReaderWriter* stream_;
  };

  class Handler {
   public:
    virtual ~Handler() = default;
    // The stream (re)opened. Reader thread, writer locked: write what must go
    // first (re-created watches, renewals of every kept lease).
    virtual void OnOpen(Writer& writer) = 0;
    // A message arrived. Reader thread, no lock held. After a hand-off two
    // threads may be inside OnMessage at once (one blocked in a listener).
    virtual void OnMessage(Response& message) = 0;
    // The stream broke; a reconnect follows after a backoff. Reader thread.
    virtual void OnBroken(const absl::Status& status) = 0;
  };

  struct Options {
    BackoffOptions backoff;
    // A handler call blocked this long gets the reading handed to a new thread.
    absl::Duration handoff_after = absl::Milliseconds(200);
  };

  BidiStream(Connection& connection, Timer& timer, std::string method, Options options,
             Opener opener, Handler* handler)
      : connection_(connection),
        timer_(timer),
        method_(std::move(method)),
        options_(options),
        opener_(std::move(opener)),
        handler_(handler),
        backoff_(options.backoff) {}

  ~BidiStream() override { Shutdown(); }

  // Starts the reader thread on first use; later calls do nothing.
  void EnsureStarted() {
    if (started_fast_.load(std::memory_order_acquire)) return;
    {
      MutexLock lock(&state_mu_);
      if (started_ || shutdown_) return;
      started_ = true;
      const uint64_t token = ++reader_token_;
      threads_.emplace_back([this, token] { ReaderLoop(token); });
    }
    timer_.Add(this);
    started_fast_.store(true, std::memory_order_release);
  }

  // Cancels the stream, stops reconnecting and joins the reader threads (a
  // thread blocked in a listener is waited for).
  void Shutdown() {
    std::vector<std::thread> threads;
    {
      MutexLock lock(&state_mu_);
      shutdown_ = true;
      shutdown_cv_.Notify();
      ++reader_token_;
      if (context_ != nullptr) context_->TryCancel();
      threads.swap(threads_);
      if (started_) SetState(StreamState::kClosed);
    }
    for (std::thread& thread : threads) {
      if (!thread.joinable()) continue;
      if (thread.get_id() == std::this_thread::get_id()) {
        std::fprintf(stderr,
                     "etcdgrpc: a Client was destroyed from inside one of its own callbacks; "
                     "that would deadlock\n");
        std::abort();
      }
      thread.join();
    }
  }

  // Runs f(Writer*) with the writer locked; the pointer is null when the
  // stream is not open (the handler's OnOpen() will catch up on reconnect).
  template <class F>
  auto WithWriter(F&& f) {
    MutexLock lock(&write_mu_);
    if (stream_ == nullptr) return f(static_cast<Writer*>(nullptr));
    Writer writer(stream_);
    return f(&writer);
  }

  // Breaks the current stream (for instance when it stopped answering); the
  // reader reconnects after the backoff.
  void Restart() {
    MutexLock lock(&state_mu_);
    if (context_ != nullptr) context_->TryCancel();
  }

  // etcd refused the stream's token for part of its work (a watch create
  // cancelled with "invalid auth token"): reopen the stream with a new token.
  void RestartWithNewToken() {
    token_refused_.store(true, std::memory_order_relaxed);
    Restart();
  }

  // True on the thread currently reading (inside OnMessage()).
  bool IsReaderThread() const {
    return std::this_thread::get_id() == reader_id_.load(std::memory_order_relaxed);
  }

  StreamState state() const {
    MutexLock lock(&state_mu_);
    return state_;
  }
  // How many times a stream was opened (1 + reconnects).
  uint64_t opens() const { return opens_.load(std::memory_order_relaxed); }
  // How many times reading was handed to a new thread.
  uint64_t handoffs() const { return handoffs_.load(std::memory_order_relaxed); }
  // The endpoint of the current or last stream.
  std::string endpoint() const {
    MutexLock lock(&state_mu_);
    return endpoint_;
  }

  // Watchdog (timer thread): hands reading over if a handler call blocks.
  absl::Time OnTimer(absl::Time now) override {
    const int64_t busy_ns = busy_since_ns_.load(std::memory_order_acquire);
    if (busy_ns == 0) return absl::InfiniteFuture();
    const absl::Time due = absl::FromUnixNanos(busy_ns) + options_.handoff_after;
    if (now < due) return due;
    MutexLock lock(&state_mu_);
    if (shutdown_ || busy_since_ns_.load(std::memory_order_acquire) != busy_ns) {
      return absl::InfiniteFuture();
    }
    const uint64_t token = ++reader_token_;
    busy_since_ns_.store(0, std::memory_order_release);
    handoffs_.fetch_add(1, std::memory_order_relaxed);
    threads_.emplace_back([this, token] { ReaderLoop(token); });
    return absl::InfiniteFuture();
  }

 private:
  void SetState(StreamState state, absl::string_view detail = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_) {
    if (state_ == state) return;
    LogStreamTransition(method_, endpoint_, state_, state, detail);
    state_ = state;
  }

  bool IsCurrent(uint64_t token) {
    MutexLock lock(&state_mu_);
    return token == reader_token_ && !shutdown_;
  }

  // Body of every reader thread. Only the thread whose token is current
  // touches the call; a thread handed off ends when its handler call returns.
  void ReaderLoop(uint64_t token) {
    reader_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    Response message;
    while (IsCurrent(token)) {
      if (call_ == nullptr) {
        Connect();
        continue;
      }
      if (!call_->Read(&message)) {
        FinishAndWait();
        continue;
      }
      received_ = true;
      const absl::Time now = absl::Now();
      busy_since_ns_.store(absl::ToUnixNanos(now), std::memory_order_release);
      // Ask the watchdog to look in time, but not on every message.
      if (now + options_.handoff_after / 2 > watchdog_requested_) {
        watchdog_requested_ = now + options_.handoff_after;
        timer_.RequestWake(this, watchdog_requested_);
      }
      handler_->OnMessage(message);
      int64_t expected = absl::ToUnixNanos(now);
      busy_since_ns_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    }
  }

  // A channel left in TRANSIENT_FAILURE by fail-fast calls is not always
  // retried by gRPC 1.51 on its own: after an etcd member restart it kept
  // failing with "tcp handshaker shutdown" for as long as we looked, while
  // a wait_for_ready call brought it back at once. So ask it to connect and
  // wait (bounded, in slices that notice a shutdown) as such a call would.
  void AwaitChannel(grpc::Channel& channel, absl::Duration max) {
    const absl::Time deadline = absl::Now() + max;
    while (true) {
      const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
      if (state == GRPC_CHANNEL_READY) return;
      {
        MutexLock lock(&state_mu_);
        if (shutdown_) return;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) return;
      channel.WaitForStateChange(
          state, absl::ToChronoTime(std::min(deadline, now + absl::Milliseconds(50))));
    }
  }

  void Connect() {
    const size_t index = connection_.PickEndpoint();
    EndpointStubs& endpoint = connection_.endpoint(index);
    if (endpoint.channel != nullptr) AwaitChannel(*endpoint.channel, absl::Seconds(1));
    if (connection_.NeedsToken()) {
      // Connect() did not authenticate (no dial timeout): get the first
      // token. A failure shows as the stream's own error below.
      (void)connection_.RefreshToken(0, absl::Now() + connection_.request_timeout());
    }
    auto context = std::make_unique<grpc::ClientContext>();
    const uint64_t token = connection_.PrepareStreamContext(context.get());
    {
      MutexLock lock(&state_mu_);
      if (shutdown_) return;
      context_ = context.get();
      endpoint_ = endpoint.address;
      SetState(StreamState::kConnecting);
    }
    std::unique_ptr<ReaderWriter> call = opener_(endpoint, context.get());
    opens_.fetch_add(1, std::memory_order_relaxed);
    {
      MutexLock lock(&state_mu_);
      SetState(StreamState::kOpen);
    }
    {
      MutexLock lock(&write_mu_);
      stream_ = call.get();
      Writer writer(stream_);
      handler_->OnOpen(writer);
    }
    call_ = std::move(call);
    call_context_ = std::move(context);
    call_index_ = index;
    call_token_ = token;
    opened_at_ = absl::Now();
    received_ = false;
  }

  void FinishAndWait() {
    {
      MutexLock lock(&write_mu_);
      stream_ = nullptr;
    }
    const grpc::Status status = call_->Finish();
    call_.reset();
    const std::string address = connection_.endpoint(call_index_).address;
    {
      MutexLock lock(&state_mu_);
      context_ = nullptr;
      if (shutdown_) return;
    }
    call_context_.reset();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      connection_.ReportUnavailable(call_index_);
    }
    // A stream's token is fixed when it opens: when etcd refused it (expired,
    // or forgotten by a restarted etcd), reopen with a new one.
    if (token_refused_.exchange(false, std::memory_order_relaxed) ||
        (connection_.has_credentials() && Connection::IsTokenRefused(status))) {
      if (absl::Status s =
              connection_.RefreshToken(call_token_, absl::Now() + connection_.request_timeout());
          !s.ok()) {
        MutexLock lock(&state_mu_);
        LogStreamTransition(method_, endpoint_, state_, state_, s.ToString());
      }
    }
    // A stream that worked for a while starts the backoff over.
    if (received_ || absl::Now() - opened_at_ > absl::Seconds(1)) backoff_.Reset();
    absl::Status broken = FromGrpcStatus(status, address, method_);
    if (status.ok()) broken = absl::UnavailableError("the server ended the stream");
    handler_->OnBroken(broken);
    const absl::Duration delay = backoff_.Next();
    grpc::Channel* channel = connection_.endpoint(call_index_).channel.get();
    // A stream that broke on a working connection (the server ended it) waits
    // out the backoff; one that lost its connection reopens as soon as the
    // channel is READY again, so the stream is back as soon as etcd is (the
    // backoff may have grown to seconds during a long outage).
    const bool connection_lost =
        channel != nullptr && channel->GetState(false) != GRPC_CHANNEL_READY;
    {
      MutexLock lock(&state_mu_);
      SetState(StreamState::kBackingOff, broken.ToString());
      if (!connection_lost) {
        shutdown_cv_.WaitUntil(state_mu_, absl::Now() + delay,
                               [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return shutdown_; });
        return;
      }
    }
    const absl::Time deadline = absl::Now() + delay;
    while (true) {
      {
        MutexLock lock(&state_mu_);
        if (shutdown_) return;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) return;
      const grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
      if (state == GRPC_CHANNEL_READY) return;
      // Short slices: Shutdown() is noticed within one.
      channel->WaitForStateChange(
          state, absl::ToChronoTime(std::min(deadline, now + absl::Milliseconds(50))));
    }
  }

  Connection& connection_;
  Timer& timer_;
  const std::string method_;
  const Options options_;
  const Opener opener_;
  Handler* const handler_;

  // The call, used only by the current reader thread (hand-off passes it on).
  std::unique_ptr<ReaderWriter> call_;
  std::unique_ptr<grpc::ClientContext> call_context_;
  size_t call_index_ = 0;
  uint64_t call_token_ = 0;  // token generation the call was opened with
  absl::Time opened_at_;
  bool received_ = false;
  Backoff backoff_;
  absl::Time watchdog_requested_ = absl::InfinitePast();

  mutable Mutex state_mu_;
  CondVar shutdown_cv_;  // wakes a backoff wait
  bool started_ ABSL_GUARDED_BY(state_mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(state_mu_) = false;
  // The current call's context, for cancelling it from Shutdown()/Restart().
  grpc::ClientContext* context_ ABSL_GUARDED_BY(state_mu_) = nullptr;
  StreamState state_ ABSL_GUARDED_BY(state_mu_) = StreamState::kIdle;
  std::string endpoint_ ABSL_GUARDED_BY(state_mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(state_mu_);
  std::atomic<uint64_t> reader_token_{0};

  Mutex write_mu_;
  ReaderWriter* stream_ ABSL_GUARDED_BY(write_mu_) = nullptr;

  std::atomic<bool> started_fast_{false};
  // RestartWithNewToken() was called: refresh before reopening.
  std::atomic<bool> token_refused_{false};
  // When the current reader entered a handler call (Unix ns), 0 when not in one.
  std::atomic<int64_t> busy_since_ns_{0};
  std::atomic<uint64_t> opens_{0};
  std::atomic<uint64_t> handoffs_{0};
  std::atomic<std::thread::id> reader_id_{};
};

}  // namespace etcdgrpc::internal
