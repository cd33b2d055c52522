// One long-lived bidirectional stream of a client (Watch or LeaseKeepAlive),
// driven by a dedicated reader thread blocked in the synchronous Read(). It
// reconnects after a break with jittered exponential backoff, moving to the
// next endpoint when the current one is unavailable, and serializes writes so
// that a group of messages goes out as one burst (buffer_hint on all but the
// last, so gRPC flushes once). DESIGN.md, "Streams", says why.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "internal/backoff.h"
#include "internal/connection.h"
#include "internal/grpc_status.h"
#include "internal/stream_state.h"

namespace etcdgrpc::internal {

template <class Request, class Response>
class BidiStream {
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
    // A message arrived. Reader thread, no lock held.
    virtual void OnMessage(Response& message) = 0;
    // The stream broke; a reconnect follows after a backoff. Reader thread.
    virtual void OnBroken(const absl::Status& status) = 0;
  };

  BidiStream(Connection& connection, std::string method, BackoffOptions backoff, Opener opener,
             Handler* handler)
      : connection_(connection),
        method_(std::move(method)),
        backoff_options_(backoff),
        opener_(std::move(opener)),
        handler_(handler) {}

  ~BidiStream() { Shutdown(); }

  // Starts the reader thread on first use; later calls do nothing.
  void EnsureStarted() {
    absl::MutexLock lock(&state_mu_);
    if (started_ || shutdown_) return;
    started_ = true;
    reader_ = std::thread([this] { Run(); });
  }

  // Cancels the stream, stops reconnecting and joins the reader thread.
  void Shutdown() {
    {
      absl::MutexLock lock(&state_mu_);
      shutdown_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (!reader_.joinable()) return;
    if (reader_.get_id() == std::this_thread::get_id()) {
      std::fprintf(stderr,
                   "etcdgrpc: a Client was destroyed from inside one of its own callbacks; "
                   "that would deadlock\n");
      std::abort();
    }
    reader_.join();
  }

  // Runs f(Writer*) with the writer locked; the pointer is null when the
  // stream is not open (the handler's OnOpen() will catch up on reconnect).
  template <class F>
  auto WithWriter(F&& f) {
    absl::MutexLock lock(&write_mu_);
    if (stream_ == nullptr) return f(static_cast<Writer*>(nullptr));
    Writer writer(stream_);
    return f(&writer);
  }

  // Breaks the current stream (for instance when it stopped answering); the
  // reader reconnects after the backoff.
  void Restart() {
    absl::MutexLock lock(&state_mu_);
    if (context_ != nullptr) context_->TryCancel();
  }

  bool IsReaderThread() const { return std::this_thread::get_id() == reader_id_.load(); }

  StreamState state() const {
    absl::MutexLock lock(&state_mu_);
    return state_;
  }
  // How many times a stream was opened (1 + reconnects).
  uint64_t opens() const { return opens_.load(std::memory_order_relaxed); }
  // The endpoint of the current or last stream.
  std::string endpoint() const {
    absl::MutexLock lock(&state_mu_);
    return endpoint_;
  }

 private:
  void SetState(StreamState state, absl::string_view detail = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_) {
    if (state_ == state) return;
    LogStreamTransition(method_, endpoint_, state_, state, detail);
    state_ = state;
  }

  void Run() {
    reader_id_.store(std::this_thread::get_id());
    Backoff backoff(backoff_options_);
    while (true) {
      const size_t index = connection_.current();
      EndpointStubs& endpoint = connection_.endpoint(index);
      auto context = std::make_unique<grpc::ClientContext>();
      connection_.PrepareStreamContext(context.get());
      {
        absl::MutexLock lock(&state_mu_);
        if (shutdown_) break;
        context_ = context.get();
        endpoint_ = endpoint.address;
        SetState(StreamState::kConnecting);
      }
      std::unique_ptr<ReaderWriter> stream = opener_(endpoint, context.get());
      const absl::Time opened_at = absl::Now();
      opens_.fetch_add(1, std::memory_order_relaxed);
      {
        absl::MutexLock lock(&state_mu_);
        SetState(StreamState::kOpen);
      }
      {
        absl::MutexLock lock(&write_mu_);
        stream_ = stream.get();
        Writer writer(stream_);
        handler_->OnOpen(writer);
      }
      Response message;
      bool received = false;
      while (stream->Read(&message)) {
        received = true;
        handler_->OnMessage(message);
      }
      {
        absl::MutexLock lock(&write_mu_);
        stream_ = nullptr;
      }
      const grpc::Status status = stream->Finish();
      stream.reset();
      {
        absl::MutexLock lock(&state_mu_);
        context_ = nullptr;
        if (shutdown_) break;
      }
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
        connection_.ReportUnavailable(index);
      }
      // A stream that worked for a while starts the backoff over.
      if (received || absl::Now() - opened_at > absl::Seconds(1)) backoff.Reset();
      absl::Status broken = FromGrpcStatus(status, endpoint.address, method_);
      if (status.ok()) broken = absl::UnavailableError("the server ended the stream");
      handler_->OnBroken(broken);
      const absl::Duration delay = backoff.Next();
      absl::MutexLock lock(&state_mu_);
      SetState(StreamState::kBackingOff, broken.ToString());
      state_mu_.AwaitWithTimeout(absl::Condition(&shutdown_), delay);
      if (shutdown_) break;
    }
    absl::MutexLock lock(&state_mu_);
    SetState(StreamState::kClosed);
  }

  Connection& connection_;
  const std::string method_;
  const BackoffOptions backoff_options_;
  const Opener opener_;
  Handler* const handler_;

  mutable absl::Mutex state_mu_;
  bool started_ ABSL_GUARDED_BY(state_mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(state_mu_) = false;
  // The current call's context, for cancelling it from Shutdown()/Restart().
  grpc::ClientContext* context_ ABSL_GUARDED_BY(state_mu_) = nullptr;
  StreamState state_ ABSL_GUARDED_BY(state_mu_) = StreamState::kIdle;
  std::string endpoint_ ABSL_GUARDED_BY(state_mu_);

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  ReaderWriter* stream_ ABSL_GUARDED_BY(write_mu_) = nullptr;

  std::atomic<uint64_t> opens_{0};
  std::atomic<std::thread::id> reader_id_{};
  std::thread reader_;
};

}  // namespace etcdgrpc::internal
