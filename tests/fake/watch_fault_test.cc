// Watch stream behaviour under responses the real etcd produces only in
// narrow windows: a break during catch-up (header revision ahead of the
// delivered events), created answers without our id, fragments, progress.
#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "fake_etcd.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::FakeEtcd;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Recorder : public WatchListener {
 public:
  void OnEvents(const WatchEvents& batch) override {
    internal::MutexLock lock(&mu_);
    batches_.push_back(batch);
    cv_.Notify();
  }
  void OnProgress(int64_t revision) override {
    internal::MutexLock lock(&mu_);
    progress_.push_back(revision);
    cv_.Notify();
  }
  void OnEnd(const WatchEnd& end) override {
    internal::MutexLock lock(&mu_);
    ends_.push_back(end);
    cv_.Notify();
  }
  template <class Pred>
  bool Wait(Pred pred, absl::Duration timeout = absl::Seconds(5)) {
    internal::MutexLock lock(&mu_);
    return cv_.WaitUntil(mu_, internal::MonoNow() + timeout,
                         [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return pred(*this); });
  }
  std::vector<int64_t> revisions() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    std::vector<int64_t> out;
    for (const auto& b : batches_)
      for (const auto& e : b.events) out.push_back(e.kv.mod_revision);
    return out;
  }

  internal::Mutex mu_;
  std::vector<WatchEvents> batches_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> progress_ ABSL_GUARDED_BY(mu_);
  std::vector<WatchEnd> ends_ ABSL_GUARDED_BY(mu_);
  internal::CondVar cv_;  // notified on every change of the above
};

etcdserverpb::WatchResponse Response(const std::string& text) {
  etcdserverpb::WatchResponse response;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &response)) << text;
  return response;
}

std::string Events(int64_t id, int64_t header, std::initializer_list<int64_t> revisions,
                   bool fragment = false) {
  std::string text = absl::StrCat("header { revision: ", header, " } watch_id: ", id);
  for (int64_t r : revisions) {
    absl::StrAppend(&text, " events { kv { key: \"k\" value: \"v\" mod_revision: ", r,
                    " create_revision: 1 version: 1 } }");
  }
  if (fragment) absl::StrAppend(&text, " fragment: true");
  return text;
}

class WatchFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeEtcd>> fake = FakeEtcd::Start();
    ASSERT_THAT(fake, IsOk());
    fake_ = *std::move(fake);
    ClientOptions options;
    options.endpoints = {fake_->endpoint()};
    options.stream_backoff.initial = absl::Milliseconds(20);
    options.stream_backoff.max = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  void TearDown() override {
    client_.reset();
    fake_.reset();
  }
  const etcdserverpb::WatchCreateRequest& Create(size_t stream, size_t n) {
    EXPECT_TRUE(fake_->watch().WaitForRequests(stream, n + 1, absl::Seconds(5)));
    requests_ = fake_->watch().requests(stream);
    return requests_.at(n).create_request();
  }

  std::unique_ptr<FakeEtcd> fake_;
  std::unique_ptr<Client> client_;
  std::vector<etcdserverpb::WatchRequest> requests_;
};

TEST_F(WatchFaultTest, BreakDuringCatchUpResumesFromTheLastDeliveredEvent) {
  Recorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Prefix("k"), .start_revision = 5}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const auto& create = Create(0, 0);
  EXPECT_EQ(create.start_revision(), 5);
  const int64_t id = create.watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 100 } watch_id: ", id, " created: true"))));
  // Catch-up: the header says 100 while the events are at 5 and 6.
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 100, {5, 6}))));
  ASSERT_TRUE(recorder.Wait(
      [](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return r.revisions().size() == 2; }));
  fake_->watch().DropStream();
  const auto& again = Create(1, 0);
  EXPECT_EQ(again.start_revision(), 7);  // not 101
  EXPECT_EQ(again.watch_id(), id);
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 100 } watch_id: ", id, " created: true"))));
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 100, {7, 8}))));
  ASSERT_TRUE(recorder.Wait(
      [](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return r.revisions().size() == 4; }));
  EXPECT_THAT(recorder.revisions(), ElementsAre(5, 6, 7, 8));
  EXPECT_EQ(watch->next_revision(), 9);
}

TEST_F(WatchFaultTest, PartialFragmentsAreDroppedAndResentAfterABreak) {
  Recorder recorder;
  auto watch = client_->Watch(
      {.range = KeyRange::Prefix("k"), .start_revision = 10, .fragment = true}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const int64_t id = Create(0, 0).watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 20 } watch_id: ", id, " created: true"))));
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 20, {10, 11}, /*fragment=*/true))));
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 20, {12}, /*fragment=*/false))));
  ASSERT_TRUE(recorder.Wait(
      [](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return r.revisions().size() == 3; }));
  {
    internal::MutexLock lock(&recorder.mu_);
    EXPECT_EQ(recorder.batches_.size(), 1u);  // the fragments were joined
  }
  // A fragment arrives, then the stream breaks before the rest.
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 20, {13, 14}, /*fragment=*/true))));
  fake_->watch().DropStream();
  EXPECT_EQ(Create(1, 0).start_revision(), 13);
  internal::MutexLock lock(&recorder.mu_);
  EXPECT_EQ(recorder.revisions().size(), 3u);  // nothing of the partial response
}

TEST_F(WatchFaultTest, CreatedWithIdMinusOneFailsOnlyThatWatch) {
  Recorder first;
  Recorder second;
  auto a = client_->Watch({.range = KeyRange::Key("a")}, &first);
  auto b = client_->Watch({.range = KeyRange::Key("b")}, &second);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  const int64_t id_a = Create(0, 0).watch_id();
  Create(0, 1);
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 3 } watch_id: ", id_a, " created: true"))));
  // etcd's answer to a create it refused carries watch_id -1.
  ASSERT_TRUE(fake_->watch().Send(
      Response("header { revision: 3 } watch_id: -1 created: true canceled: true "
               "cancel_reason: \"mvcc: duplicate watch ID provided on the WatchStream\"")));
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id_a, 4, {4}))));
  ASSERT_TRUE(
      second.Wait([](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r.ends_.empty(); }));
  ASSERT_TRUE(first.Wait([](Recorder& r)
                             ABSL_NO_THREAD_SAFETY_ANALYSIS { return r.revisions().size() == 1; }));
  internal::MutexLock lock(&second.mu_);
  EXPECT_THAT(second.ends_[0].status,
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("duplicate watch ID")));
  EXPECT_EQ(fake_->watch().streams_opened(), 1);  // the stream went on
}

TEST_F(WatchFaultTest, ProgressAdvancesTheResumeRevision) {
  Recorder recorder;
  auto watch = client_->Watch(
      {.range = KeyRange::Key("p"), .start_revision = 2, .progress_notify = true}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const int64_t id = Create(0, 0).watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 50 } watch_id: ", id, " created: true"))));
  ASSERT_TRUE(
      fake_->watch().Send(Response(absl::StrCat("header { revision: 60 } watch_id: ", id))));
  ASSERT_TRUE(recorder.Wait([](Recorder& r)
                                ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r.progress_.empty(); }));
  EXPECT_EQ(watch->next_revision(), 61);
  fake_->watch().DropStream();
  EXPECT_EQ(Create(1, 0).start_revision(), 61);
}

TEST_F(WatchFaultTest, CompactionEndsTheWatchWithItsRevision) {
  Recorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Key("c"), .start_revision = 3}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const int64_t id = Create(0, 0).watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 9 } watch_id: ", id, " created: true"))));
  ASSERT_TRUE(fake_->watch().Send(Response(absl::StrCat("header { revision: 9 } watch_id: ", id,
                                                        " compact_revision: 7 canceled: true"))));
  ASSERT_TRUE(
      recorder.Wait([](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r.ends_.empty(); }));
  internal::MutexLock lock(&recorder.mu_);
  EXPECT_EQ(recorder.ends_[0].compact_revision, 7);
  EXPECT_EQ(recorder.ends_[0].next_revision, 3);
  EXPECT_THAT(recorder.ends_[0].status, StatusIs(absl::StatusCode::kOutOfRange));
}

// etcd < 3.4.25 / < 3.5.8 answers RequestProgress() at once with the store
// revision, ahead of events still queued: resuming from it would lose them.
TEST_F(WatchFaultTest, StreamProgressFromAnEarlyAnsweringEtcdMovesNoResumeRevision) {
  fake_->maintenance().set_version("3.4.23");
  Recorder behind;  // still catching up: the answer is not true for it
  Recorder ahead;   // has delivered past the answer's revision
  auto a = client_->Watch({.range = KeyRange::Key("a"), .start_revision = 2}, &behind);
  auto b = client_->Watch({.range = KeyRange::Key("b"), .start_revision = 2}, &ahead);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  const int64_t id_a = Create(0, 0).watch_id();
  const int64_t id_b = Create(0, 1).watch_id();
  for (int64_t id : {id_a, id_b}) {
    ASSERT_TRUE(fake_->watch().Send(
        Response(absl::StrCat("header { revision: 100 } watch_id: ", id, " created: true"))));
  }
  ASSERT_TRUE(fake_->watch().Send(Response(Events(id_b, 100, {70}))));
  ASSERT_TRUE(ahead.Wait([](Recorder& r)
                             ABSL_NO_THREAD_SAFETY_ANALYSIS { return r.revisions().size() == 1; }));
  ASSERT_THAT(client_->RequestProgress(), IsOk());
  ASSERT_TRUE(fake_->watch().Send(Response("header { revision: 60 } watch_id: -1")));
  ASSERT_TRUE(
      ahead.Wait([](Recorder& r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r.progress_.empty(); }));
  EXPECT_EQ(a->next_revision(), 2);
  EXPECT_EQ(b->next_revision(), 71);
  fake_->watch().DropStream();
  EXPECT_EQ(Create(1, 0).start_revision(), 2);  // not 61: nothing skipped
  EXPECT_EQ(Create(1, 1).start_revision(), 71);
  internal::MutexLock lock(&behind.mu_);
  EXPECT_TRUE(behind.progress_.empty());
}

TEST_F(WatchFaultTest, StreamProgressFromAFixedEtcdIsTrusted) {
  fake_->maintenance().set_version("3.5.9");
  Recorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Key("p"), .start_revision = 2}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const int64_t id = Create(0, 0).watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 50 } watch_id: ", id, " created: true"))));
  ASSERT_THAT(client_->RequestProgress(), IsOk());
  ASSERT_TRUE(fake_->watch().Send(Response("header { revision: 60 } watch_id: -1")));
  ASSERT_TRUE(recorder.Wait([](Recorder& r)
                                ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r.progress_.empty(); }));
  EXPECT_EQ(watch->next_revision(), 61);
  internal::MutexLock lock(&recorder.mu_);
  EXPECT_THAT(recorder.progress_, ElementsAre(60));
}

// Two fake members: the first stops answering (a frozen etcd keeps its TCP
// connection), the stream probes it, fails over, and resumes every watch.
TEST(WatchLivenessTest, UnansweredProbeMovesTheStreamToAnotherEndpoint) {
  absl::StatusOr<std::unique_ptr<FakeEtcd>> a = FakeEtcd::Start();
  absl::StatusOr<std::unique_ptr<FakeEtcd>> b = FakeEtcd::Start();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ClientOptions options;
  options.endpoints = {(*a)->endpoint(), (*b)->endpoint()};
  options.liveness.watch_probe_after = absl::Milliseconds(300);
  options.liveness.probe_timeout = absl::Milliseconds(300);
  // Only the first endpoint is up while connecting, so the stream starts there.
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  Recorder recorder;
  auto watch = (*client)->Watch({.range = KeyRange::Key("k"), .start_revision = 5}, &recorder);
  ASSERT_THAT(watch, IsOk());
  FakeEtcd* first = nullptr;
  FakeEtcd* second = nullptr;
  for (absl::Time until = absl::Now() + absl::Seconds(5); absl::Now() < until;) {
    if ((*a)->watch().streams_opened() > 0) first = a->get(), second = b->get();
    if ((*b)->watch().streams_opened() > 0) first = b->get(), second = a->get();
    if (first != nullptr) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->watch().WaitForRequests(0, 1, absl::Seconds(5)));
  const int64_t id = first->watch().requests(0)[0].create_request().watch_id();
  ASSERT_TRUE(first->watch().Send(
      Response(absl::StrCat("header { revision: 9 } watch_id: ", id, " created: true"))));
  ASSERT_TRUE(first->watch().Send(Response(Events(id, 9, {5, 6}))));
  // Now it is silent: a probe goes out and nothing answers it.
  ASSERT_TRUE(first->watch().WaitForRequests(0, 2, absl::Seconds(3)));
  EXPECT_TRUE(first->watch().requests(0)[1].has_progress_request());
  ASSERT_TRUE(second->watch().WaitForRequests(0, 1, absl::Seconds(3)));
  const etcdserverpb::WatchCreateRequest again = second->watch().requests(0)[0].create_request();
  EXPECT_EQ(again.start_revision(), 7);
  EXPECT_EQ(again.watch_id(), id);
  const ClientStats stats = (*client)->stats();
  EXPECT_EQ(stats.watch.stalls, 1u);
  EXPECT_EQ(stats.watch.endpoint, second->endpoint());
  EXPECT_GE(stats.watch.probes_sent, 1u);
  internal::MutexLock lock(&recorder.mu_);
  EXPECT_TRUE(recorder.ends_.empty());
}

TEST_F(WatchFaultTest, AnsweredProbesKeepTheStream) {
  client_.reset();
  ClientOptions options;
  options.endpoints = {fake_->endpoint()};
  options.liveness.watch_probe_after = absl::Milliseconds(200);
  options.liveness.probe_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_THAT(client, IsOk());
  client_ = *std::move(client);
  fake_->watch().set_answer_progress(3);
  Recorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Key("q"), .start_revision = 2}, &recorder);
  ASSERT_THAT(watch, IsOk());
  const int64_t id = Create(0, 0).watch_id();
  ASSERT_TRUE(fake_->watch().Send(
      Response(absl::StrCat("header { revision: 3 } watch_id: ", id, " created: true"))));
  absl::SleepFor(absl::Seconds(2));
  const ClientStats stats = client_->stats();
  EXPECT_GE(stats.watch.probes_sent, 3u);
  EXPECT_EQ(stats.watch.stalls, 0u);
  EXPECT_EQ(fake_->watch().streams_opened(), 1);
  internal::MutexLock lock(&recorder.mu_);
  EXPECT_TRUE(recorder.progress_.empty());  // probes are not the user's progress requests
}

// Twenty watches whose listeners each block once past the hand-off time: each
// blocked call gets reading handed over, and the threads are joined once done.
TEST_F(WatchFaultTest, HandedOffReaderThreadsAreJoinedOnceTheyFinish) {
  struct BlockOnce : WatchListener {
    std::atomic<bool> blocked{false};
    void OnEvents(const WatchEvents&) override {
      if (!blocked.exchange(true)) absl::SleepFor(absl::Milliseconds(400));
    }
  };
  std::vector<std::unique_ptr<BlockOnce>> listeners;
  std::vector<WatchHandle> watches;
  for (int i = 0; i < 20; ++i) {
    listeners.push_back(std::make_unique<BlockOnce>());
    auto watch = client_->Watch({.range = KeyRange::Key(absl::StrCat("h", i)), .start_revision = 2},
                                listeners.back().get());
    ASSERT_THAT(watch, IsOk());
    watches.push_back(*std::move(watch));
  }
  ASSERT_TRUE(fake_->watch().WaitForRequests(0, 20, absl::Seconds(5)));
  const std::vector<etcdserverpb::WatchRequest> creates = fake_->watch().requests(0);
  for (int i = 0; i < 20; ++i) {
    const int64_t id = creates[i].create_request().watch_id();
    ASSERT_TRUE(fake_->watch().Send(
        Response(absl::StrCat("header { revision: 3 } watch_id: ", id, " created: true"))));
    ASSERT_TRUE(fake_->watch().Send(Response(Events(id, 3, {3}))));
    absl::SleepFor(absl::Milliseconds(250));  // past the hand-off time
  }
  absl::SleepFor(absl::Milliseconds(600));
  // One more message: its reader reaps the finished threads.
  ASSERT_TRUE(
      fake_->watch().Send(Response(Events(creates[0].create_request().watch_id(), 4, {4}))));
  absl::SleepFor(absl::Milliseconds(400));
  const ClientStats stats = client_->stats();
  EXPECT_GE(stats.watch.handoffs, 15u);
  EXPECT_LE(stats.watch.reader_threads, 2u);
}

}  // namespace
}  // namespace etcdgrpc
