// One long-lived bidirectional stream of a client (Watch or LeaseKeepAlive):
// a reader thread blocked in the synchronous Read(), and a writer thread that
// calls Write() for everyone else, so that no other thread ever blocks in a
// gRPC write: callers queue messages (WithWriter) and return at once, and what
// is queued together goes out as one burst (buffer_hint on all but the last
// message, so gRPC flushes once). Only the reader writes its own callbacks'
// requests itself (WriteFromReader), bounded by the watchdogs. It reconnects after a break with
// jittered exponential backoff, on another endpoint when this one failed. docs/design.md,
// "Streams" and "Failure model", says why.
//
// Liveness: a handler that finds the stream stuck (a renewal or a probe
// unanswered) calls Break(); a write that does not complete within
// `write_timeout` breaks the stream too. Either marks the endpoint suspect and
// reconnects at once on another endpoint.
//
// A handler call (which runs listeners) that blocks for longer than
// `handoff_after` does not stall the stream: the watchdog on the client's
// timer starts a new reader thread that carries on reading, and the blocked
// thread ends (and is joined) once the call returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "common/thread_set.h"
#include "etcdgrpc/stats.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "lib/internal/connection.h"
#include "lib/internal/grpc_status.h"
#include "lib/internal/stream_state.h"

namespace etcdgrpc::internal {

template <class Request, class Response>
class BidiStream : public Scheduler::Slot {
 public:
  using ReaderWriter = grpc::ClientReaderWriterInterface<Request, Response>;
  // Starts the call on one endpoint's stubs.
  using Opener = std::function<std::unique_ptr<ReaderWriter>(EndpointStubs&, grpc::ClientContext*)>;

  // Queues messages for the writer thread; only valid inside WithWriter() or
  // OnOpen(). Never blocks.
  class Writer {
   public:
    explicit Writer(std::vector<Request>* queue) : queue_(queue) {}
    void Write(Request message) { queue_->push_back(std::move(message)); }
    // Queues the messages (moved from) to go out as one burst.
    void WriteBurst(std::vector<Request>& messages) {
      if (queue_->empty()) {
        queue_->swap(messages);
      } else {
        for (Request& message : messages) queue_->push_back(std::move(message));
      }
      messages.clear();
    }

   private:
    std::vector<Request>* queue_;
  };

  class Handler {
   public:
    virtual ~Handler() = default;
    // The stream (re)opened. Reader thread, writer locked: queue what must
    // go first (re-created watches, renewals of every kept lease).
    virtual void OnOpen(Writer& writer) = 0;
    // A message arrived. Reader thread, no lock held. After a hand-off two
    // threads may be inside OnMessage at once (one blocked in a listener).
    virtual void OnMessage(Response& message) = 0;
    // The stream broke; a reconnect follows. Reader thread.
    virtual void OnBroken(const absl::Status& status) = 0;
    // Writes that come due with time (lease renewals): the writer thread
    // calls this, writer locked and the stream open, once the time it
    // returned last comes (or after WakeWriterBy() or a reopen); it queues
    // what is due and returns when to be called next. So periodic writes cost
    // one wake-up of one thread, and the timer thread never writes.
    virtual absl::Time OnWriterTick(absl::Time /*now*/, Writer& /*writer*/) {
      return absl::InfiniteFuture();
    }
  };

  struct Options {
    BackoffOptions backoff;
    // A handler call blocked this long gets the reading handed to a new thread.
    absl::Duration handoff_after = absl::Milliseconds(200);
    // A Write() not done after this long breaks the stream.
    absl::Duration write_timeout = absl::Seconds(2);
    // Before opening on an endpoint whose etcd version is unknown, ask it
    // (bounded by this; zero: do not ask). An endpoint that does not answer
    // is not opened on.
    absl::Duration learn_version_timeout = absl::ZeroDuration();
  };

  BidiStream(Connection& connection, Scheduler& timer, std::string method, Options options,
             Opener opener, Handler* handler)
      : connection_(connection),
        timer_(timer),
        method_(std::move(method)),
        options_(options),
        opener_(std::move(opener)),
        handler_(handler),
        backoff_(options.backoff) {}

  ~BidiStream() override { Shutdown(); }

  // Starts the reader and writer threads on first use; later calls do nothing.
  void EnsureStarted() {
    if (started_fast_.load(std::memory_order_acquire)) return;
    {
      MutexLock lock(&state_mu_);
      if (started_ || shutdown_) return;
      started_ = true;
      // The slot first: the threads ask it for wake-ups (the watchdogs), and
      // the timer drops RequestWake() for a slot it does not have yet. The
      // timer's lock is a leaf: taking it here orders nothing new.
      timer_.Add(this);
      const uint64_t token = ++reader_token_;
      readers_.Start([this, token] { ReaderLoop(token); });
      writer_ = std::thread([this] { WriterLoop(); });
    }
    started_fast_.store(true, std::memory_order_release);
  }

  // Cancels the stream and anything the reader waits on, stops reconnecting
  // and joins the threads (a reader blocked in a listener is waited for).
  void Shutdown() {
    {
      MutexLock lock(&state_mu_);
      shutdown_ = true;
      shutdown_cv_.Notify();
      ++reader_token_;
      if (context_ != nullptr) context_->TryCancel();
      if (started_) SetState(StreamState::kClosed);
    }
    cancel_slot_.Cancel();
    {
      MutexLock lock(&write_mu_);
      writer_stop_ = true;
      write_cv_.Notify();
    }
    readers_.JoinAll();
    if (writer_.joinable()) writer_.join();
  }

  // Runs f(Writer*) with the writer locked; the pointer is null when the
  // stream is not open (the handler's OnOpen() catches up on reconnect).
  // Messages queued are written by the writer thread after f returns.
  template <class F>
  auto WithWriter(F&& f) {
    MutexLock lock(&write_mu_);
    if (!open_) return f(static_cast<Writer*>(nullptr));
    const size_t queued = queue_.size();
    Writer writer(&queue_);
    if constexpr (std::is_void_v<decltype(f(&writer))>) {
      f(&writer);
      if (queue_.size() != queued) write_cv_.Notify();
    } else {
      auto result = f(&writer);
      if (queue_.size() != queued) write_cv_.Notify();
      return result;
    }
  }

  // Makes the writer call Handler::OnWriterTick() no later than `when`. Must
  // not be called with a lock held that WithWriter()'s callers take inside
  // the writer lock (the handler's own).
  void WakeWriterBy(absl::Time when) {
    MutexLock lock(&write_mu_);
    if (when >= writer_wake_) return;
    writer_wake_ = when;
    write_cv_.Notify();
  }

  // From the reader thread only, for requests its own callbacks made (the
  // keep-alive stream's KeepAliveOnce calls from listeners): like
  // WithWriter(), but when nothing else is queued or being written, this
  // thread writes the messages itself, which saves waking the writer (a
  // measured 1.5x in CPU per keep-alive otherwise). A write that blocks here
  // holds up nobody for long: no lock is held meanwhile, the hand-off
  // watchdog gives reading to a new thread after `handoff_after`, and the
  // write watchdog breaks the stream after `write_timeout`.
  template <class F>
  void WriteFromReader(F&& f) {
    std::vector<Request> burst;
    ReaderWriter* call;
    {
      MutexLock lock(&write_mu_);
      if (!open_) {
        f(static_cast<Writer*>(nullptr));
        return;
      }
      if (writing_ || !queue_.empty()) {
        // Behind others' messages: the writer thread keeps the order.
        const size_t queued = queue_.size();
        Writer writer(&queue_);
        f(&writer);
        if (queue_.size() != queued) write_cv_.Notify();
        return;
      }
      Writer writer(&burst);
      f(&writer);
      if (burst.empty()) return;
      writing_ = true;
      call = stream_;
    }
    const bool ok = WriteBurst(call, burst);
    MutexLock lock(&write_mu_);
    writing_ = false;
    // Wake the writer only for work (or a reader finishing the call): a
    // needless wake-up per burst costs more than the burst.
    if (!queue_.empty() || finishing_) write_cv_.Notify();
    if (!ok && stream_ == call) {
      open_ = false;
      queue_.clear();
      stream_context_->TryCancel();
    }
  }

  // The stream of `generation` (opens() when the handler saw it open) is
  // stuck (a renewal or probe unanswered): cancel it, count it against its
  // endpoint, and reconnect at once on another endpoint. Nothing happens if
  // the stream was reopened since: a verdict on the old one must not break
  // the new one.
  void Break(absl::string_view reason, uint64_t generation) {
    MutexLock lock(&state_mu_);
    if (context_ == nullptr || !stall_reason_.empty() ||
        opens_.load(std::memory_order_relaxed) != generation) {
      return;
    }
    stall_reason_ = std::string(reason);
    stalls_.fetch_add(1, std::memory_order_relaxed);
    context_->TryCancel();
  }

  // Breaks the current stream without blaming the endpoint; the reader
  // reconnects after the backoff.
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
  // How many times a stream was opened (1 + reconnects); also the current
  // stream's generation, for Break().
  uint64_t opens() const { return opens_.load(std::memory_order_relaxed); }
  // How many times reading was handed to a new thread.
  uint64_t handoffs() const { return handoffs_.load(std::memory_order_relaxed); }
  // How many times the stream was broken as stuck (Break(), a stalled write).
  uint64_t stalls() const { return stalls_.load(std::memory_order_relaxed); }
  // Reader threads alive (1, plus those blocked in a listener).
  size_t reader_threads() const { return readers_.size(); }
  // The stream's half of the public counters (etcdgrpc/stats.h).
  void FillStats(StreamStats* out) const {
    out->state = std::string(StreamStateName(state()));
    out->endpoint = endpoint();
    out->opens = opens();
    out->stalls = stalls();
    out->handoffs = handoffs();
    out->reader_threads = reader_threads();
  }
  // The endpoint of the current or last stream.
  std::string endpoint() const {
    MutexLock lock(&state_mu_);
    return endpoint_;
  }
  // Index of the endpoint of the current or last stream.
  size_t endpoint_index() const { return call_index_atomic_.load(std::memory_order_relaxed); }
  // When the last message arrived, or the stream opened if later (MonoNow()).
  absl::Time last_activity() const {
    return absl::FromUnixNanos(last_activity_ns_.load(std::memory_order_relaxed));
  }

  // Watchdogs (timer thread): hands reading over if a handler call blocks;
  // breaks the stream if a write does not complete.
  absl::Time OnTimer(absl::Time now) override {
    readers_.ReapFinished();
    absl::Time next = absl::InfiniteFuture();
    const int64_t write_ns = write_started_ns_.load(std::memory_order_acquire);
    if (write_ns != 0) {
      const absl::Time due = absl::FromUnixNanos(write_ns) + options_.write_timeout;
      if (now >= due) {
        Break(absl::StrCat("a write did not complete within ",
                           absl::FormatDuration(options_.write_timeout)),
              write_generation_.load(std::memory_order_acquire));
      } else {
        next = due;
      }
    }
    const int64_t busy_ns = busy_since_ns_.load(std::memory_order_acquire);
    if (busy_ns == 0) return next;
    const absl::Time due = absl::FromUnixNanos(busy_ns) + options_.handoff_after;
    if (now < due) return std::min(next, due);
    MutexLock lock(&state_mu_);
    if (shutdown_ || busy_since_ns_.load(std::memory_order_acquire) != busy_ns) return next;
    const uint64_t token = ++reader_token_;
    busy_since_ns_.store(0, std::memory_order_release);
    handoffs_.fetch_add(1, std::memory_order_relaxed);
    readers_.Start([this, token] { ReaderLoop(token); });
    return next;
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
      const absl::Time now = MonoNow();
      const int64_t now_ns = absl::ToUnixNanos(now);
      last_activity_ns_.store(now_ns, std::memory_order_relaxed);
      connection_.ReportHealthy(call_index_);
      busy_since_ns_.store(now_ns, std::memory_order_release);
      // Ask the watchdog to look in time, but not on every message.
      const int64_t requested = watchdog_requested_ns_.load(std::memory_order_relaxed);
      if (absl::ToUnixNanos(now + options_.handoff_after / 2) > requested) {
        const absl::Time when = now + options_.handoff_after;
        watchdog_requested_ns_.store(absl::ToUnixNanos(when), std::memory_order_relaxed);
        timer_.RequestWake(this, when);
      }
      handler_->OnMessage(message);
      int64_t expected = now_ns;
      busy_since_ns_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    }
  }

  // Writes `burst` on `call` (buffer_hint on all but the last message), under
  // the write watchdog; false once the call is broken. No lock held.
  bool WriteBurst(ReaderWriter* call, const std::vector<Request>& burst) {
    const absl::Time started = MonoNow();
    // Under the writer lock's protocol the stream cannot be reopened while
    // this write runs (the reader waits for it), so this is its generation.
    write_generation_.store(opens_.load(std::memory_order_relaxed), std::memory_order_release);
    // Ask the watchdog to look in time, but not for every burst.
    const int64_t requested = write_watch_requested_ns_.load(std::memory_order_relaxed);
    if (absl::ToUnixNanos(started + options_.write_timeout / 2) > requested) {
      const absl::Time when = started + options_.write_timeout;
      write_watch_requested_ns_.store(absl::ToUnixNanos(when), std::memory_order_relaxed);
      timer_.RequestWake(this, when);
    }
    bool ok = true;
    for (size_t i = 0; i < burst.size() && ok; ++i) {
      grpc::WriteOptions write_options;
      if (i + 1 < burst.size()) write_options.set_buffer_hint();
      write_started_ns_.store(absl::ToUnixNanos(i == 0 ? started : MonoNow()),
                              std::memory_order_release);
      ok = call->Write(burst[i], write_options);
    }
    write_started_ns_.store(0, std::memory_order_release);
    return ok;
  }

  // The thread that writes everything but WriteFromReader()'s messages: takes
  // everything queued and writes it as
  // one burst. Blocking here (flow control against a member that stopped
  // reading) holds up nobody; the watchdog breaks the stream if it lasts.
  void WriterLoop() {
    std::vector<Request> batch;
    MutexLock lock(&write_mu_);
    while (true) {
      // Woken early when the wake time moves (WakeWriterBy), to wait anew.
      const absl::Time planned = writer_wake_;
      write_cv_.WaitUntil(
          write_mu_, open_ && !writing_ ? planned : absl::InfiniteFuture(),
          [this, planned]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return writer_stop_ || writer_wake_ != planned ||
                   (open_ && !writing_ && (!queue_.empty() || writer_wake_ <= MonoNow()));
          });
      if (writer_stop_) return;
      if (!open_ || writing_) continue;
      if (const absl::Time now = MonoNow(); writer_wake_ <= now) {
        Writer writer(&queue_);
        writer_wake_ = handler_->OnWriterTick(now, writer);
      }
      if (queue_.empty()) continue;
      batch.swap(queue_);
      ReaderWriter* const call = stream_;
      grpc::ClientContext* const context = stream_context_;
      writing_ = true;
      write_mu_.Unlock();
      const bool ok = WriteBurst(call, batch);
      batch.clear();
      write_mu_.Lock();
      writing_ = false;
      if (finishing_) write_cv_.Notify();  // the reader waits for the writer to leave the call
      if (!ok && stream_ == call) {
        // The call is broken; make sure the reader hears of it promptly.
        open_ = false;
        queue_.clear();
        context->TryCancel();
      }
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
      opens_.fetch_add(1, std::memory_order_relaxed);
      SetState(StreamState::kConnecting);
    }
    call_index_ = index;
    call_index_atomic_.store(index, std::memory_order_relaxed);
    std::unique_ptr<ReaderWriter> call = opener_(endpoint, context.get());
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
      queue_.clear();
      Writer writer(&queue_);
      handler_->OnOpen(writer);
      writer_wake_ = opened_at_;  // the writer ticks once and learns what is next
      write_cv_.Notify();
    }
    call_ = std::move(call);
    call_context_ = std::move(context);
    call_token_ = token;
    received_ = false;
  }

  void FinishAndWait() {
    {
      MutexLock lock(&write_mu_);
      open_ = false;
      queue_.clear();
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
    handler_->OnBroken(broken);
    if (!stall.empty() && connection_.size() > 1) {
      // Stuck, not refused: go to another endpoint at once.
      avoid_ = call_index_;
      MutexLock lock(&state_mu_);
      SetState(StreamState::kBackingOff, broken.ToString());
      return;
    }
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
        shutdown_cv_.WaitUntil(state_mu_, MonoNow() + delay,
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
  Scheduler& timer_;
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
  // After a stall: the endpoint the next Connect() avoids.
  std::optional<size_t> avoid_;
  Backoff backoff_;

  mutable Mutex state_mu_;
  CondVar shutdown_cv_;  // wakes a backoff wait
  bool started_ ABSL_GUARDED_BY(state_mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(state_mu_) = false;
  // The current call's context, for cancelling it from Shutdown()/Restart().
  grpc::ClientContext* context_ ABSL_GUARDED_BY(state_mu_) = nullptr;
  // Set by Break(): why we cancelled the current call ourselves.
  std::string stall_reason_ ABSL_GUARDED_BY(state_mu_);
  StreamState state_ ABSL_GUARDED_BY(state_mu_) = StreamState::kIdle;
  std::string endpoint_ ABSL_GUARDED_BY(state_mu_);
  std::atomic<uint64_t> reader_token_{0};
  ThreadSet readers_;
  std::thread writer_;
  // Cancels a token refresh or version probe the reader is blocked in.
  CancelSlot cancel_slot_;

  // Taken after a handler's own lock is released, or before it (WithWriter
  // runs the handler's code under it): never while holding state_mu_.
  Mutex write_mu_;
  CondVar write_cv_;
  bool open_ ABSL_GUARDED_BY(write_mu_) = false;  // accepting messages
  bool writer_stop_ ABSL_GUARDED_BY(write_mu_) = false;
  bool writing_ ABSL_GUARDED_BY(write_mu_) = false;    // a thread is inside Write()
  bool finishing_ ABSL_GUARDED_BY(write_mu_) = false;  // the reader waits for !writing_
  std::vector<Request> queue_ ABSL_GUARDED_BY(write_mu_);
  // When the writer next calls Handler::OnWriterTick() (MonoNow).
  absl::Time writer_wake_ ABSL_GUARDED_BY(write_mu_) = absl::InfiniteFuture();
  ReaderWriter* stream_ ABSL_GUARDED_BY(write_mu_) = nullptr;
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(write_mu_) = nullptr;

  std::atomic<bool> started_fast_{false};
  // RestartWithNewToken() was called: refresh before reopening.
  std::atomic<bool> token_refused_{false};
  // When the current reader entered a handler call (MonoNow ns), 0 when not in one.
  std::atomic<int64_t> busy_since_ns_{0};
  // When the Write() in progress started (MonoNow ns), 0 when none.
  std::atomic<int64_t> write_started_ns_{0};
  // opens() of the stream the write in progress is on.
  std::atomic<uint64_t> write_generation_{0};
  // When the write watchdog was last asked to look (MonoNow ns).
  std::atomic<int64_t> write_watch_requested_ns_{0};
  // When the hand-off watchdog was last asked to look (MonoNow ns). Atomic, not
  // reader-only like the call: a reader sets it after publishing busy_since_ns_,
  // so the reader the watchdog hands over to may already be running.
  std::atomic<int64_t> watchdog_requested_ns_{std::numeric_limits<int64_t>::min()};
  std::atomic<int64_t> last_activity_ns_{0};
  std::atomic<size_t> call_index_atomic_{0};
  std::atomic<uint64_t> opens_{0};
  std::atomic<uint64_t> handoffs_{0};
  std::atomic<uint64_t> stalls_{0};
  std::atomic<std::thread::id> reader_id_{};
};

}  // namespace etcdgrpc::internal
