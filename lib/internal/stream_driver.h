// The untyped engine of every long-lived bidirectional stream (Watch,
// LeaseKeepAlive): threads, reconnects, bursts, watchdogs. BidiStream
// (bidi_stream.h) is its thin typed face; docs/design.md, "Streams", says why.
//
// A reader thread blocks in the synchronous Read(), and a writer thread calls
// Write() for everyone else, so that no other thread ever blocks in a gRPC
// write: callers queue messages (WithOutbox) and return at once, and what is
// queued together goes out as one burst (buffer_hint on all but the last
// message, so gRPC flushes once). Only the reader writes its own callbacks'
// requests itself (WriteFromReader), bounded by the watchdogs. It reconnects
// after a break with jittered exponential backoff, on another endpoint when
// this one failed.
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
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "common/thread_set.h"
#include "etcdgrpc/stats.h"
#include "google/protobuf/message_lite.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/config.h"
#include "grpcpp/support/status.h"
#include "lib/internal/connection.h"
#include "lib/internal/stream_state.h"

namespace etcdgrpc::internal {

class StreamDriver : public Scheduler::Slot {
 public:
  using Message = google::protobuf::MessageLite;

  // One open gRPC call, its message types erased by the typed face.
  class Call {
   public:
    virtual ~Call() = default;
    virtual bool Read(Message* message) = 0;
    virtual bool Write(const Message& message, grpc::WriteOptions options) = 0;
    virtual grpc::Status Finish() = 0;
  };

  // Messages waiting to be written, all of the stream's request type.
  class Outbox {
   public:
    virtual ~Outbox() = default;
    virtual size_t size() const = 0;
    bool empty() const { return size() == 0; }
    virtual const Message& at(size_t index) const = 0;
    virtual void clear() = 0;
    // Exchanges the messages with `other` (an outbox of the same stream).
    virtual void swap(Outbox& other) = 0;
  };

  // What the typed face supplies: the call, its messages, and the handler's
  // callbacks (threads and locks as documented on BidiStream::Handler).
  class Hooks {
   public:
    virtual ~Hooks() = default;
    // Starts the call on one endpoint's stubs.
    virtual std::unique_ptr<Call> Open(EndpointStubs& endpoint, grpc::ClientContext* context) = 0;
    virtual std::unique_ptr<Outbox> NewOutbox() = 0;
    // A message to read into; one per reader thread, reused.
    virtual std::unique_ptr<Message> NewResponse() = 0;
    virtual void OnOpen(Outbox& outbox) = 0;
    virtual void OnMessage(Message& message) = 0;
    virtual void OnBroken(const absl::Status& status) = 0;
    virtual absl::Time OnWriterTick(absl::Time now, Outbox& outbox) = 0;
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

  // `hooks` outlives the driver; nothing is called on it before EnsureStarted().
  StreamDriver(Connection& connection, Scheduler& timer, std::string method, Options options,
               Hooks* hooks);
  ~StreamDriver() override;
  StreamDriver(const StreamDriver&) = delete;
  StreamDriver& operator=(const StreamDriver&) = delete;

  // Starts the reader and writer threads on first use; later calls do nothing.
  void EnsureStarted();
  // Cancels the stream and anything the reader waits on, stops reconnecting
  // and joins the threads (a reader blocked in a listener is waited for).
  void Shutdown();

  // Runs f(outbox) with the writer locked; the outbox is null when the stream
  // is not open (the handler's OnOpen() catches up on reconnect). Messages
  // queued are written by the writer thread after f returns.
  void WithOutbox(absl::FunctionRef<void(Outbox*)> f);
  // From the reader thread only, for requests its own callbacks made (the
  // keep-alive stream's KeepAliveOnce calls from listeners): like
  // WithOutbox(), but when nothing else is queued or being written, this
  // thread writes the messages itself, which saves waking the writer (a
  // measured 1.5x in CPU per keep-alive otherwise). A write that blocks here
  // holds up nobody for long: no lock is held meanwhile, the hand-off
  // watchdog gives reading to a new thread after `handoff_after`, and the
  // write watchdog breaks the stream after `write_timeout`.
  void WriteFromReader(absl::FunctionRef<void(Outbox*)> f);
  // Makes the writer call Hooks::OnWriterTick() no later than `when`. Must
  // not be called with a lock held that WithOutbox()'s callers take inside
  // the writer lock (the handler's own).
  void WakeWriterBy(absl::Time when);

  // The stream of `generation` (opens() when the handler saw it open) is
  // stuck (a renewal or probe unanswered): cancel it, count it against its
  // endpoint, and reconnect at once on another endpoint. Nothing happens if
  // the stream was reopened since: a verdict on the old one must not break
  // the new one.
  void Break(absl::string_view reason, uint64_t generation);
  // Breaks the current stream without blaming the endpoint; the reader
  // reconnects after the backoff.
  void Restart();
  // etcd refused the stream's token for part of its work (a watch create
  // cancelled with "invalid auth token"): reopen the stream with a new token.
  void RestartWithNewToken();

  // True on the thread currently reading (inside OnMessage()).
  bool IsReaderThread() const {
    return std::this_thread::get_id() == reader_id_.load(std::memory_order_relaxed);
  }
  StreamState state() const;
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
  void FillStats(StreamStats* out) const;
  // The endpoint of the current or last stream.
  std::string endpoint() const;
  // Index of the endpoint of the current or last stream.
  size_t endpoint_index() const { return call_index_atomic_.load(std::memory_order_relaxed); }
  // When the last message arrived, or the stream opened if later (MonoNow()).
  absl::Time last_activity() const {
    return absl::FromUnixNanos(last_activity_ns_.load(std::memory_order_relaxed));
  }

  // Watchdogs (timer thread): hands reading over if a handler call blocks;
  // breaks the stream if a write does not complete.
  absl::Time OnTimer(absl::Time now) override;

 private:
  void SetState(StreamState state, absl::string_view detail = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  bool IsCurrent(uint64_t token);
  bool IsShutdown();
  void ReaderLoop(uint64_t token);
  bool WriteBurst(Call* call, const Outbox& burst);
  // After a write on `call` failed: stop accepting messages and make sure the
  // reader hears of the break promptly.
  void AfterFailedWriteLocked(Call* call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void WriterLoop();
  // Asks `channel` to connect and waits until it is READY, `max` passes or
  // Shutdown(): before opening a call, and after a lost connection.
  void AwaitChannel(grpc::Channel& channel, absl::Duration max);
  void Connect();
  void FinishAndWait();
  // After a break: waits out the backoff, or less when the channel that
  // lost its connection is READY again first.
  void WaitBeforeReconnect(const absl::Status& broken);

  Connection& connection_;
  Scheduler& timer_;
  const std::string method_;
  const Options options_;
  Hooks* const hooks_;

  // The call, used only by the current reader thread (hand-off passes it on).
  std::unique_ptr<Call> call_;
  std::unique_ptr<grpc::ClientContext> call_context_;
  size_t call_index_ = 0;
  uint64_t call_token_ = 0;  // token generation the call was opened with
  absl::Time opened_at_;
  bool received_ = false;
  // After a stall: the endpoint the next Connect() avoids.
  std::optional<size_t> avoid_;
  Backoff backoff_;
  // Metrics (null handles when off); why the last call broke, for the next open's reconnect
  // and failover counts. Reader thread only.
  StreamMetrics metrics_;
  StreamBreak last_break_ = StreamBreak::kError;

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

  // Taken after a handler's own lock is released, or before it (WithOutbox
  // runs the handler's code under it): never while holding state_mu_.
  Mutex write_mu_;
  CondVar write_cv_;
  bool open_ ABSL_GUARDED_BY(write_mu_) = false;  // accepting messages
  bool writer_stop_ ABSL_GUARDED_BY(write_mu_) = false;
  bool writing_ ABSL_GUARDED_BY(write_mu_) = false;    // a thread is inside Write()
  bool finishing_ ABSL_GUARDED_BY(write_mu_) = false;  // the reader waits for !writing_
  // Created by EnsureStarted(): hooks are not called before.
  std::unique_ptr<Outbox> queue_ ABSL_GUARDED_BY(write_mu_);
  // WriteFromReader()'s burst, kept between calls to save an allocation each.
  std::unique_ptr<Outbox> spare_burst_ ABSL_GUARDED_BY(write_mu_);
  // When the writer next calls Hooks::OnWriterTick() (MonoNow).
  absl::Time writer_wake_ ABSL_GUARDED_BY(write_mu_) = absl::InfiniteFuture();
  Call* stream_ ABSL_GUARDED_BY(write_mu_) = nullptr;
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
