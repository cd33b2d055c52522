// The typed face of one long-lived bidirectional stream of a client (Watch or
// LeaseKeepAlive): request and response types over StreamDriver
// (stream_driver.h), which owns the threads, reconnects and watchdogs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "grpcpp/support/sync_stream.h"
#include "lib/internal/stream_driver.h"

namespace etcdgrpc::internal {

template <class Request, class Response>
class BidiStream final : private StreamDriver::Hooks {
 public:
  using ReaderWriter = grpc::ClientReaderWriterInterface<Request, Response>;
  // Starts the call on one endpoint's stubs.
  using Opener = std::function<std::unique_ptr<ReaderWriter>(EndpointStubs&, grpc::ClientContext*)>;
  using Options = StreamDriver::Options;

  // Queues messages for the writer thread; only valid inside WithWriter(),
  // WriteFromReader(), OnOpen() or OnWriterTick(). Never blocks.
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

  BidiStream(Connection& connection, Scheduler& timer, std::string method, Options options,
             Opener opener, Handler* handler)
      : opener_(std::move(opener)),
        handler_(handler),
        driver_(connection, timer, std::move(method), options, this) {}
  // The driver's threads call this object's hooks: they stop first.
  ~BidiStream() override { driver_.Shutdown(); }
  BidiStream(const BidiStream&) = delete;
  BidiStream& operator=(const BidiStream&) = delete;

  // Runs f(Writer*) with the writer locked; the pointer is null when the
  // stream is not open (the handler's OnOpen() catches up on reconnect).
  // Messages queued are written by the writer thread after f returns.
  template <class F>
  auto WithWriter(F&& f) {
    using Result = decltype(f(static_cast<Writer*>(nullptr)));
    if constexpr (std::is_void_v<Result>) {
      driver_.WithOutbox([&](StreamDriver::Outbox* outbox) { CallWithWriter(f, outbox); });
    } else {
      std::optional<Result> result;
      driver_.WithOutbox(
          [&](StreamDriver::Outbox* outbox) { result.emplace(CallWithWriter(f, outbox)); });
      return std::move(*result);
    }
  }
  // See StreamDriver::WriteFromReader().
  template <class F>
  void WriteFromReader(F&& f) {
    driver_.WriteFromReader([&](StreamDriver::Outbox* outbox) { CallWithWriter(f, outbox); });
  }

  void EnsureStarted() { driver_.EnsureStarted(); }
  void Shutdown() { driver_.Shutdown(); }
  void WakeWriterBy(absl::Time when) { driver_.WakeWriterBy(when); }
  void Break(absl::string_view reason, uint64_t generation) { driver_.Break(reason, generation); }
  void Restart() { driver_.Restart(); }
  void RestartWithNewToken() { driver_.RestartWithNewToken(); }
  bool IsReaderThread() const { return driver_.IsReaderThread(); }
  StreamState state() const { return driver_.state(); }
  uint64_t opens() const { return driver_.opens(); }
  uint64_t handoffs() const { return driver_.handoffs(); }
  uint64_t stalls() const { return driver_.stalls(); }
  size_t reader_threads() const { return driver_.reader_threads(); }
  void FillStats(StreamStats* out) const { driver_.FillStats(out); }
  std::string endpoint() const { return driver_.endpoint(); }
  size_t endpoint_index() const { return driver_.endpoint_index(); }
  absl::Time last_activity() const { return driver_.last_activity(); }

 private:
  class TypedOutbox final : public StreamDriver::Outbox {
   public:
    size_t size() const override { return messages.size(); }
    const StreamDriver::Message& at(size_t index) const override { return messages[index]; }
    void clear() override { messages.clear(); }
    void swap(StreamDriver::Outbox& other) override {
      messages.swap(static_cast<TypedOutbox&>(other).messages);
    }
    std::vector<Request> messages;
  };

  class TypedCall final : public StreamDriver::Call {
   public:
    explicit TypedCall(std::unique_ptr<ReaderWriter> call) : call_(std::move(call)) {}
    bool Read(StreamDriver::Message* message) override {
      return call_->Read(static_cast<Response*>(message));
    }
    bool Write(const StreamDriver::Message& message, grpc::WriteOptions options) override {
      return call_->Write(static_cast<const Request&>(message), options);
    }
    grpc::Status Finish() override { return call_->Finish(); }

   private:
    const std::unique_ptr<ReaderWriter> call_;
  };

  // Calls f with a Writer over `outbox`, or with null when the stream is not open.
  template <class F>
  static decltype(auto) CallWithWriter(F& f, StreamDriver::Outbox* outbox) {
    if (outbox == nullptr) return f(static_cast<Writer*>(nullptr));
    Writer writer = WriterOf(*outbox);
    return f(&writer);
  }
  static Writer WriterOf(StreamDriver::Outbox& outbox) {
    return Writer(&static_cast<TypedOutbox&>(outbox).messages);
  }

  std::unique_ptr<StreamDriver::Call> Open(EndpointStubs& endpoint,
                                           grpc::ClientContext* context) override {
    return std::make_unique<TypedCall>(opener_(endpoint, context));
  }
  std::unique_ptr<StreamDriver::Outbox> NewOutbox() override {
    return std::make_unique<TypedOutbox>();
  }
  std::unique_ptr<StreamDriver::Message> NewResponse() override {
    return std::make_unique<Response>();
  }
  void OnOpen(StreamDriver::Outbox& outbox) override {
    Writer writer = WriterOf(outbox);
    handler_->OnOpen(writer);
  }
  void OnMessage(StreamDriver::Message& message) override {
    handler_->OnMessage(static_cast<Response&>(message));
  }
  void OnBroken(const absl::Status& status) override { handler_->OnBroken(status); }
  absl::Time OnWriterTick(absl::Time now, StreamDriver::Outbox& outbox) override {
    Writer writer = WriterOf(outbox);
    return handler_->OnWriterTick(now, writer);
  }

  const Opener opener_;
  Handler* const handler_;
  // Last: destroyed (its threads joined) before the members its hooks use.
  StreamDriver driver_;
};

}  // namespace etcdgrpc::internal
