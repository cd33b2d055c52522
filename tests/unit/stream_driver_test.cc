// The stream driver (lib/internal/stream_driver.h) through its typed face,
// against Watch services of loopback gRPC servers that script what a member
// does: answer, end the stream, or stop reading. Real gRPC calls, so breaks,
// cancellation and flow control are gRPC's own.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "lib/internal/bidi_stream.h"
#include "lib/internal/connection.h"

namespace etcdgrpc::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Stream = BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

// Requests and responses carry a sequence number: the request's
// create_request.start_revision, echoed as the response's watch_id.
etcdserverpb::WatchRequest Numbered(int64_t seq, size_t padding = 0) {
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_start_revision(seq);
  request.mutable_create_request()->set_key(std::string(padding, 'k'));
  return request;
}

// What one server's streams do, in the order they are opened (the last mode
// repeats).
enum class Mode {
  kEcho,             // answer every request
  kEchoOnceThenEnd,  // answer the first request, then end the stream (UNAVAILABLE)
  kNoRead,           // never read: the client's writes back up
};

class ScriptedWatch final : public etcdserverpb::Watch::Service {
 public:
  explicit ScriptedWatch(std::vector<Mode> modes) : modes_(std::move(modes)) {}

  grpc::Status Watch(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<etcdserverpb::WatchResponse,
                                              etcdserverpb::WatchRequest>* stream) override {
    Mode mode;
    {
      MutexLock lock(&mu_);
      mode = modes_[std::min(streams_, modes_.size() - 1)];
      ++streams_;
      received_.emplace_back();
    }
    if (mode == Mode::kNoRead) {
      while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return grpc::Status::CANCELLED;
    }
    etcdserverpb::WatchRequest request;
    while (stream->Read(&request)) {
      const int64_t seq = request.create_request().start_revision();
      {
        MutexLock lock(&mu_);
        received_.back().push_back(seq);
      }
      etcdserverpb::WatchResponse response;
      response.set_watch_id(seq);
      response.set_created(true);
      if (!stream->Write(response)) break;
      if (mode == Mode::kEchoOnceThenEnd) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "scripted end");
      }
    }
    return grpc::Status::OK;
  }

  size_t streams() {
    MutexLock lock(&mu_);
    return streams_;
  }
  // Sequence numbers received, per stream.
  std::vector<std::vector<int64_t>> received() {
    MutexLock lock(&mu_);
    return received_;
  }

 private:
  const std::vector<Mode> modes_;
  Mutex mu_;
  size_t streams_ = 0;
  std::vector<std::vector<int64_t>> received_;
};

struct TestServer {
  explicit TestServer(std::vector<Mode> modes) : service(std::move(modes)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~TestServer() { server->Shutdown(std::chrono::system_clock::now()); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  ScriptedWatch service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

// Records what the stream hands it; can block on one sequence number, answer
// one from the reader thread, and queue requests on every open or tick.
class RecordingHandler final : public Stream::Handler {
 public:
  void OnOpen(Stream::Writer& writer) override {
    MutexLock lock(&mu_);
    ++opens_;
    if (hello_on_open_) writer.Write(Numbered(0));
  }
  void OnMessage(etcdserverpb::WatchResponse& message) override {
    const int64_t seq = message.watch_id();
    {
      MutexLock lock(&mu_);
      seen_.push_back(seq);
      if (seq == reply_from_reader_to_) on_reader_thread_ = stream_->IsReaderThread();
    }
    if (seq == block_on_) release_.WaitForNotification();
    if (seq == reply_from_reader_to_) {
      stream_->WriteFromReader([&](Stream::Writer* writer) {
        if (writer != nullptr) writer->Write(Numbered(seq * 100));
      });
    }
  }
  void OnBroken(const absl::Status& status) override {
    MutexLock lock(&mu_);
    broken_.push_back(status);
  }
  absl::Time OnWriterTick(absl::Time now, Stream::Writer& writer) override {
    MutexLock lock(&mu_);
    if (tick_every_ == absl::ZeroDuration()) return absl::InfiniteFuture();
    writer.Write(Numbered(1000 + ticks_++));
    return now + tick_every_;
  }

  // Waits (bounded) until `done` holds under the handler's lock.
  template <class F>
  bool WaitFor(F done, absl::Duration max = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + max;
    while (absl::Now() < deadline) {
      {
        MutexLock lock(&mu_);
        if (done()) return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  // Guards the fields below it (not annotated: the tests read them from
  // WaitFor's lambdas, which the lock analysis does not see into).
  Mutex mu_;
  Stream* stream_ = nullptr;
  bool hello_on_open_ = false;
  int64_t block_on_ = -1;
  int64_t reply_from_reader_to_ = -1;
  absl::Duration tick_every_ = absl::ZeroDuration();
  Notification release_;
  int opens_ = 0;
  int ticks_ = 0;
  bool on_reader_thread_ = false;
  std::vector<int64_t> seen_;
  std::vector<absl::Status> broken_;
};

class StreamDriverTest : public ::testing::Test {
 protected:
  // A stream over the given servers' endpoints, started and open.
  void Start(const std::vector<TestServer*>& servers, Stream::Options options = {}) {
    ClientOptions client_options;
    client_options.endpoints.clear();
    for (TestServer* server : servers) client_options.endpoints.push_back(server->address());
    auto connection = Connection::Dial(client_options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
    options.backoff.initial = absl::Milliseconds(20);
    options.backoff.max = absl::Milliseconds(100);
    stream_ = std::make_unique<Stream>(
        *connection_, timer_, "Watch", options,
        [](EndpointStubs& stubs, grpc::ClientContext* context) {
          return stubs.watch->Watch(context);
        },
        &handler_);
    handler_.stream_ = stream_.get();
    stream_->EnsureStarted();
    ASSERT_TRUE(handler_.WaitFor([&] { return handler_.opens_ >= 1; }));
  }
  void TearDown() override {
    handler_.release_.Notify();
    stream_.reset();
    timer_.Shutdown();
  }
  std::vector<int64_t> Seen() {
    MutexLock lock(&handler_.mu_);
    return handler_.seen_;
  }

  Scheduler timer_;
  RecordingHandler handler_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Stream> stream_;
};

TEST_F(StreamDriverTest, WhatIsQueuedGoesOutInOrderAndTheAnswersArriveInOrder) {
  TestServer server({Mode::kEcho});
  Start({&server});
  for (int64_t seq = 1; seq <= 200; seq += 2) {
    const bool queued = stream_->WithWriter([&](Stream::Writer* writer) {
      if (writer == nullptr) return false;
      writer->Write(Numbered(seq));
      std::vector<etcdserverpb::WatchRequest> burst = {Numbered(seq + 1)};
      writer->WriteBurst(burst);
      return true;
    });
    ASSERT_TRUE(queued);
  }
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() >= 200; }));
  std::vector<int64_t> expected;
  for (int64_t seq = 1; seq <= 200; ++seq) expected.push_back(seq);
  EXPECT_EQ(Seen(), expected);
  EXPECT_EQ(server.service.received(), std::vector<std::vector<int64_t>>{expected});
  EXPECT_EQ(stream_->opens(), 1u);
  EXPECT_EQ(stream_->state(), StreamState::kOpen);
}

TEST_F(StreamDriverTest, AStreamTheServerEndsIsReopenedAndOnOpenGoesFirstEachTime) {
  TestServer server({Mode::kEchoOnceThenEnd, Mode::kEcho});
  handler_.hello_on_open_ = true;
  Start({&server});
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.opens_ >= 2 && handler_.seen_.size() >= 2; }));
  stream_->WithWriter([](Stream::Writer* writer) {
    if (writer != nullptr) writer->Write(Numbered(7));
  });
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() >= 3; }));
  EXPECT_THAT(Seen(), ElementsAre(0, 0, 7));
  EXPECT_THAT(server.service.received(), ElementsAre(ElementsAre(0), ElementsAre(0, 7)));
  MutexLock lock(&handler_.mu_);
  ASSERT_EQ(handler_.broken_.size(), 1u);
  EXPECT_EQ(handler_.broken_[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(handler_.broken_[0].message(), HasSubstr("scripted end"));
}

TEST_F(StreamDriverTest, ABreakMovesToAnotherEndpointAndAVerdictOnAnOldStreamIsIgnored) {
  TestServer a({Mode::kEcho});
  TestServer b({Mode::kEcho});
  Start({&a, &b});
  const std::string first = stream_->endpoint();
  const uint64_t generation = stream_->opens();
  stream_->Break("renewal unanswered", generation);
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.opens_ >= 2; }));
  EXPECT_NE(stream_->endpoint(), first);
  EXPECT_EQ(stream_->stalls(), 1u);
  {
    MutexLock lock(&handler_.mu_);
    ASSERT_EQ(handler_.broken_.size(), 1u);
    EXPECT_THAT(handler_.broken_[0].message(), HasSubstr("renewal unanswered"));
  }
  // A late verdict on the first stream must not break the second.
  stream_->Break("late verdict", generation);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(stream_->opens(), 2u);
  EXPECT_EQ(stream_->stalls(), 1u);
  stream_->WithWriter([](Stream::Writer* writer) {
    if (writer != nullptr) writer->Write(Numbered(5));
  });
  ASSERT_TRUE(handler_.WaitFor([&] { return !handler_.seen_.empty(); }));
  EXPECT_THAT(Seen(), ElementsAre(5));
}

TEST_F(StreamDriverTest, AHandlerThatBlocksGetsTheReadingHandedToANewThread) {
  TestServer server({Mode::kEcho});
  handler_.block_on_ = 1;
  Stream::Options options;
  options.handoff_after = absl::Milliseconds(100);
  Start({&server}, options);
  stream_->WithWriter([](Stream::Writer* writer) { writer->Write(Numbered(1)); });
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() == 1; }));
  stream_->WithWriter([](Stream::Writer* writer) { writer->Write(Numbered(2)); });
  // Delivered although the handler is still blocked on 1.
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() == 2; }));
  EXPECT_THAT(Seen(), ElementsAre(1, 2));
  EXPECT_EQ(stream_->handoffs(), 1u);
  EXPECT_EQ(stream_->reader_threads(), 2u);
  EXPECT_EQ(stream_->opens(), 1u);
  handler_.release_.Notify();
}

TEST_F(StreamDriverTest, AWriteThatDoesNotCompleteBreaksTheStreamAndItMovesOn) {
  TestServer a({Mode::kNoRead});
  TestServer b({Mode::kEcho});
  Stream::Options options;
  options.write_timeout = absl::Milliseconds(300);
  Start({&a, &b}, options);
  ASSERT_EQ(stream_->endpoint(), a.address());
  // Far more than the flow-control windows and socket buffers hold.
  for (int i = 0; i < 64; ++i) {
    stream_->WithWriter([&](Stream::Writer* writer) {
      if (writer != nullptr) writer->Write(Numbered(i + 1, 1 << 20));
    });
  }
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.opens_ >= 2; }));
  EXPECT_GE(stream_->stalls(), 1u);
  EXPECT_EQ(stream_->endpoint(), b.address());
  MutexLock lock(&handler_.mu_);
  ASSERT_FALSE(handler_.broken_.empty());
  EXPECT_THAT(handler_.broken_[0].message(), HasSubstr("a write did not complete within"));
}

TEST_F(StreamDriverTest, TheReaderWritesItsOwnCallbacksRequests) {
  TestServer server({Mode::kEcho});
  handler_.reply_from_reader_to_ = 3;
  Start({&server});
  stream_->WithWriter([](Stream::Writer* writer) { writer->Write(Numbered(3)); });
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() >= 2; }));
  EXPECT_THAT(Seen(), ElementsAre(3, 300));
  MutexLock lock(&handler_.mu_);
  EXPECT_TRUE(handler_.on_reader_thread_);
}

TEST_F(StreamDriverTest, TheWriterTicksWhenTheHandlerAsks) {
  TestServer server({Mode::kEcho});
  Start({&server});
  {
    MutexLock lock(&handler_.mu_);
    handler_.tick_every_ = absl::Milliseconds(20);
  }
  stream_->WakeWriterBy(absl::InfinitePast());
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() >= 3; }));
  const std::vector<int64_t> seen = Seen();
  EXPECT_THAT(std::vector<int64_t>(seen.begin(), seen.begin() + 3), ElementsAre(1000, 1001, 1002));
}

TEST_F(StreamDriverTest, ShutdownWaitsForAHandlerBlockedInAListener) {
  TestServer server({Mode::kEcho});
  handler_.block_on_ = 1;
  Start({&server});
  stream_->WithWriter([](Stream::Writer* writer) { writer->Write(Numbered(1)); });
  ASSERT_TRUE(handler_.WaitFor([&] { return handler_.seen_.size() == 1; }));
  Notification shut_down;
  std::thread closer([&] {
    stream_->Shutdown();
    shut_down.Notify();
  });
  EXPECT_FALSE(shut_down.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  handler_.release_.Notify();
  EXPECT_TRUE(shut_down.WaitForNotificationWithTimeout(absl::Seconds(10)));
  closer.join();
  EXPECT_EQ(stream_->state(), StreamState::kClosed);
}

}  // namespace
}  // namespace etcdgrpc::internal
