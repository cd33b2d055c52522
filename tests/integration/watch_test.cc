// Watches against a real etcd: history and live events, many watches on one
// stream, exact resumption across an etcd restart, compaction, fragments,
// progress, cancel, filters, slow and throwing listeners.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "etcdgrpc/wire_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recorders.h"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::ConnectTo;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::kFastStreamBackoff;
using ::etcdgrpc::testing::LocalEtcd;
using ::etcdgrpc::testing::SharedEtcdTest;
using ::etcdgrpc::testing::StatusIs;
using ::etcdgrpc::testing::TestClientOptions;
using ::etcdgrpc::testing::TestPrefix;
using ::etcdgrpc::testing::WatchRecorder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The watch tests' client: 3 s calls; its streams come back quickly after an etcd restart.
const TestClientOptions kWatchClient = {.request_timeout = absl::Seconds(3),
                                        .stream_backoff = kFastStreamBackoff};

class WatchTest : public SharedEtcdTest {
 protected:
  WatchTest() : SharedEtcdTest(kWatchClient) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedEtcdTest::SetUp());
    prefix_ = TestPrefix();
  }
  // Returns once etcd created the watch: creates and progress requests are
  // handled in order on the one stream.
  void WaitCreated(WatchRecorder& recorder) {
    ASSERT_THAT(client_->RequestProgress(), IsOk());
    ASSERT_TRUE(recorder.WaitForProgress());
  }
  int64_t Put(const std::string& name, const std::string& value = "v") {
    absl::StatusOr<PutResult> put = client_->Put(prefix_ + name, value);
    EXPECT_THAT(put, IsOk());
    return put.ok() ? put->header.revision : 0;
  }

  std::string prefix_;
};

TEST_F(WatchTest, FromAPastRevisionDeliversHistoryThenLiveEvents) {
  const int64_t first = Put("a", "1");
  Put("b", "2");
  ASSERT_THAT(client_->Delete(prefix_ + "a"), IsOk());
  WatchRecorder recorder;
  absl::StatusOr<WatchHandle> watch =
      client_->Watch({.range = KeyRange::Prefix(prefix_), .start_revision = first}, &recorder);
  ASSERT_THAT(watch, IsOk());
  ASSERT_TRUE(recorder.WaitForEvents(3));
  const int64_t live = Put("c", "3");
  ASSERT_TRUE(recorder.WaitForEvents(4));
  std::vector<Event> events = recorder.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, EventType::kPut);
  EXPECT_EQ(events[0].kv.key, prefix_ + "a");
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].kv.mod_revision, first);
  EXPECT_EQ(events[2].type, EventType::kDelete);
  EXPECT_EQ(events[2].kv.key, prefix_ + "a");
  EXPECT_EQ(events[3].kv.mod_revision, live);
  EXPECT_EQ(watch->next_revision(), live + 1);
}

TEST_F(WatchTest, FromNowSeesOnlyLaterEvents) {
  Put("before");
  WatchRecorder recorder;
  absl::StatusOr<WatchHandle> watch =
      client_->Watch({.range = KeyRange::Prefix(prefix_)}, &recorder);
  ASSERT_THAT(watch, IsOk());
  WaitCreated(recorder);
  Put("after");
  ASSERT_TRUE(recorder.WaitForEvents(1));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(recorder.keys(), ElementsAre(prefix_ + "after"));
}

TEST_F(WatchTest, SingleKeyRangeFromKeyAndFilters) {
  WatchRecorder single;
  WatchRecorder range;
  WatchRecorder no_put;
  WatchRecorder no_delete;
  const int64_t start = Put("x") + 1;
  auto w1 =
      client_->Watch({.range = KeyRange::Key(prefix_ + "b"), .start_revision = start}, &single);
  auto w2 = client_->Watch(
      {.range = KeyRange::Between(prefix_ + "a", prefix_ + "c"), .start_revision = start}, &range);
  auto w3 = client_->Watch(
      {.range = KeyRange::Prefix(prefix_), .start_revision = start, .no_put = true}, &no_put);
  auto w4 = client_->Watch(
      {.range = KeyRange::Prefix(prefix_), .start_revision = start, .no_delete = true}, &no_delete);
  for (auto* w : {&w1, &w2, &w3, &w4}) ASSERT_THAT(*w, IsOk());
  Put("a");
  Put("b");
  Put("c");
  ASSERT_THAT(client_->Delete(prefix_ + "b"), IsOk());
  ASSERT_TRUE(single.WaitForEvents(2));
  ASSERT_TRUE(range.WaitForEvents(3));
  ASSERT_TRUE(no_put.WaitForEvents(1));
  ASSERT_TRUE(no_delete.WaitForEvents(3));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(single.keys(), ElementsAre(prefix_ + "b", prefix_ + "b"));
  EXPECT_THAT(range.keys(), ElementsAre(prefix_ + "a", prefix_ + "b", prefix_ + "b"));
  ASSERT_EQ(no_put.events().size(), 1u);
  EXPECT_EQ(no_put.events()[0].type, EventType::kDelete);
  EXPECT_EQ(no_delete.events().size(), 3u);
}

TEST_F(WatchTest, PrevKv) {
  Put("k", "old");
  WatchRecorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Key(prefix_ + "k"), .prev_kv = true}, &recorder);
  ASSERT_THAT(watch, IsOk());
  WaitCreated(recorder);
  Put("k", "new");
  ASSERT_THAT(client_->Delete(prefix_ + "k"), IsOk());
  ASSERT_TRUE(recorder.WaitForEvents(2));
  std::vector<Event> events = recorder.events();
  ASSERT_TRUE(events[0].prev_kv.has_value());
  EXPECT_EQ(events[0].prev_kv->value, "old");
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "new");
}

TEST_F(WatchTest, CancelStopsDelivery) {
  WatchRecorder recorder;
  absl::StatusOr<WatchHandle> watch =
      client_->Watch({.range = KeyRange::Prefix(prefix_)}, &recorder);
  ASSERT_THAT(watch, IsOk());
  WaitCreated(recorder);
  Put("1");
  ASSERT_TRUE(recorder.WaitForEvents(1));
  watch->Cancel();
  Put("2");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(recorder.events().size(), 1u);
  EXPECT_TRUE(recorder.ends().empty());  // a cancel we asked for is not an "end"
  EXPECT_EQ(client_->stats().watch.watches, 0u);
}

TEST_F(WatchTest, CompactedStartEndsWithTheCompactRevision) {
  const int64_t first = Put("c", "1");
  const int64_t second = Put("c", "2");
  ASSERT_THAT(client_->Compact(second), IsOk());
  WatchRecorder recorder;
  WatchRecorder other;
  auto compacted =
      client_->Watch({.range = KeyRange::Key(prefix_ + "c"), .start_revision = first}, &recorder);
  auto fine =
      client_->Watch({.range = KeyRange::Key(prefix_ + "c"), .start_revision = second}, &other);
  ASSERT_THAT(compacted, IsOk());
  ASSERT_THAT(fine, IsOk());
  ASSERT_TRUE(recorder.WaitForEnd());
  std::vector<WatchEnd> ends = recorder.ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_THAT(ends[0].status, StatusIs(absl::StatusCode::kOutOfRange,
                                       HasSubstr("required revision has been compacted")));
  EXPECT_TRUE(IsCompacted(ends[0].status));
  EXPECT_EQ(ends[0].compact_revision, second);
  EXPECT_TRUE(recorder.events().empty());
  // The other watch on the same stream is unaffected.
  ASSERT_TRUE(other.WaitForEvents(1));
  EXPECT_EQ(other.events()[0].kv.mod_revision, second);
  EXPECT_TRUE(other.ends().empty());
}

TEST_F(WatchTest, FutureStartRevisionWaitsForTheStore) {
  const int64_t now = Put("f", "0");
  WatchRecorder recorder;
  auto watch =
      client_->Watch({.range = KeyRange::Key(prefix_ + "f"), .start_revision = now + 3}, &recorder);
  ASSERT_THAT(watch, IsOk());
  Put("f", "1");
  Put("f", "2");
  const int64_t third = Put("f", "3");
  ASSERT_TRUE(recorder.WaitForEvents(1));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(recorder.revisions(), ElementsAre(third));
}

TEST_F(WatchTest, RequestProgress) {
  WatchRecorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Prefix(prefix_)}, &recorder);
  ASSERT_THAT(watch, IsOk());
  WaitCreated(recorder);
  const int64_t revision = Put("p");
  ASSERT_TRUE(recorder.WaitForEvents(1));
  ASSERT_THAT(client_->RequestProgress(), IsOk());
  auto two = [&] { return recorder.progress().size() >= 2; };
  for (int i = 0; i < 100 && !two(); ++i) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(two());
  EXPECT_GE(recorder.progress()[1], revision);
  EXPECT_EQ(watch->next_revision(), recorder.progress()[1] + 1);
}

TEST_F(WatchTest, BadInputIsRefused) {
  WatchRecorder recorder;
  EXPECT_THAT(client_->Watch({.range = KeyRange::Key("")}, &recorder),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(client_->Watch({.range = KeyRange::Between("b", "a")}, &recorder),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Watch({.range = KeyRange::Key("k"), .start_revision = -1}, &recorder),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative")));
  EXPECT_THAT(client_->Watch({.range = KeyRange::Key("k")}, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(WatchTest, ThousandWatchesShareOneStream) {
  constexpr int kWatches = 1000;
  const int64_t start = Put("start") + 1;
  std::vector<std::unique_ptr<WatchRecorder>> recorders;
  std::vector<WatchHandle> watches;
  for (int i = 0; i < kWatches; ++i) {
    recorders.push_back(std::make_unique<WatchRecorder>());
    absl::StatusOr<WatchHandle> watch = client_->Watch(
        {.range = KeyRange::Key(absl::StrCat(prefix_, "k", i)), .start_revision = start},
        recorders.back().get());
    ASSERT_THAT(watch, IsOk());
    watches.push_back(*std::move(watch));
  }
  for (int i = 0; i < kWatches; ++i) Put(absl::StrCat("k", i));
  for (int i = 0; i < kWatches; ++i) {
    ASSERT_TRUE(recorders[i]->WaitForEvents(1)) << i;
    EXPECT_EQ(recorders[i]->keys()[0], absl::StrCat(prefix_, "k", i));
  }
  ::etcdgrpc::WatchStreamStats stats = client_->stats().watch;
  EXPECT_EQ(stats.opens, 1u);
  EXPECT_EQ(stats.watches, static_cast<size_t>(kWatches));
  EXPECT_EQ(stats.creates_sent, static_cast<uint64_t>(kWatches));
}

TEST_F(WatchTest, BlockedListenerDoesNotStallOtherWatches) {
  struct Blocking : WatchRecorder {
    absl::Notification release;
    std::atomic<bool> blocked{false};
    void OnEvents(const WatchEvents& batch) override {
      WatchRecorder::OnEvents(batch);
      if (!blocked.exchange(true)) release.WaitForNotificationWithTimeout(absl::Seconds(20));
    }
  } slow;
  WatchRecorder fast;
  const int64_t start = Put("s") + 1;
  auto w1 =
      client_->Watch({.range = KeyRange::Key(prefix_ + "slow"), .start_revision = start}, &slow);
  auto w2 =
      client_->Watch({.range = KeyRange::Key(prefix_ + "fast"), .start_revision = start}, &fast);
  ASSERT_THAT(w1, IsOk());
  ASSERT_THAT(w2, IsOk());
  Put("slow", "1");
  ASSERT_TRUE(slow.WaitForEvents(1));  // now blocked inside its listener
  for (int i = 0; i < 5; ++i) {
    Put("slow", absl::StrCat(i + 2));
    Put("fast", absl::StrCat(i));
  }
  // The fast watch gets everything while the slow listener is still blocked.
  ASSERT_TRUE(fast.WaitForEvents(5, absl::Seconds(3)));
  EXPECT_EQ(slow.events().size(), 1u);
  EXPECT_GE(client_->stats().watch.handoffs, 1u);
  slow.release.Notify();
  // The slow watch's events were buffered, and arrive complete and in order.
  ASSERT_TRUE(slow.WaitForEvents(6));
  std::vector<int64_t> revisions = slow.revisions();
  EXPECT_TRUE(std::is_sorted(revisions.begin(), revisions.end()));
  EXPECT_EQ(revisions.size(), 6u);
}

TEST_F(WatchTest, ThrowingListenerEndsOnlyItsWatch) {
  struct Throwing : WatchRecorder {
    void OnEvents(const WatchEvents&) override { throw std::runtime_error("listener bug"); }
  } throwing;
  WatchRecorder healthy;
  const int64_t start = Put("t") + 1;
  auto w1 =
      client_->Watch({.range = KeyRange::Prefix(prefix_), .start_revision = start}, &throwing);
  auto w2 = client_->Watch({.range = KeyRange::Prefix(prefix_), .start_revision = start}, &healthy);
  ASSERT_THAT(w1, IsOk());
  ASSERT_THAT(w2, IsOk());
  Put("a");
  ASSERT_TRUE(throwing.WaitForEnd());
  EXPECT_THAT(throwing.ends()[0].status,
              StatusIs(absl::StatusCode::kInternal, HasSubstr("listener bug")));
  Put("b");
  ASSERT_TRUE(healthy.WaitForEvents(2));  // the stream survived
  EXPECT_EQ(client_->stats().watch.opens, 1u);
}

TEST_F(WatchTest, ClosingTheClientEndsWatches) {
  WatchRecorder recorder;
  auto watch = client_->Watch({.range = KeyRange::Prefix(prefix_)}, &recorder);
  ASSERT_THAT(watch, IsOk());
  client_.reset();
  ASSERT_EQ(recorder.ends().size(), 1u);
  EXPECT_THAT(recorder.ends()[0].status, StatusIs(absl::StatusCode::kCancelled));
  watch->Cancel();  // the handle outlives the client harmlessly
}

// Counts responses marked as fragments on the wire.
class FragmentCounter : public WireLogSink {
 public:
  void Record(const WireLogRecord& record) override {
    if (record.direction == WireDirection::kReceive &&
        record.method == "/etcdserverpb.Watch/Watch" &&
        record.text.find("fragment: true") != std::string_view::npos) {
      fragments_.fetch_add(1);
    }
  }
  int fragments() const { return fragments_.load(); }

 private:
  std::atomic<int> fragments_{0};
};

TEST(WatchFragmentTest, FragmentsAreJoined) {
  testing::LocalEtcdOptions small;
  small.extra_flags = {"--max-request-bytes=20000"};
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(small);
  ASSERT_THAT(etcd, IsOk());
  auto counter = std::make_shared<FragmentCounter>();
  std::unique_ptr<Client> client =
      ConnectTo((*etcd)->ClientEndpoints(), {.request_timeout = absl::Seconds(3),
                                             .stream_backoff = kFastStreamBackoff,
                                             .wire_log = counter});
  ASSERT_NE(client, nullptr);
  // Sixty 16 KiB puts: replayed from the first, one response of ~960 KiB.
  // etcd fragments watch responses above --max-request-bytes + 512 KiB.
  constexpr int kPuts = 60;
  const auto value = [](int i) { return std::string(16000, static_cast<char>('A' + i % 50)); };
  int64_t first = 0;
  for (int i = 0; i < kPuts; ++i) {
    absl::StatusOr<PutResult> put = client->Put(absl::StrCat("/frag/", i), value(i));
    ASSERT_THAT(put, IsOk());
    if (i == 0) first = put->header.revision;
  }
  WatchRecorder recorder;
  auto watch = client->Watch(
      {.range = KeyRange::Prefix("/frag/"), .start_revision = first, .fragment = true}, &recorder);
  ASSERT_THAT(watch, IsOk());
  ASSERT_TRUE(recorder.WaitForEvents(kPuts));
  EXPECT_EQ(recorder.batches(), 1);    // one whole response
  EXPECT_GT(counter->fragments(), 0);  // that etcd really sent in pieces
  std::vector<Event> events = recorder.events();
  ASSERT_EQ(events.size(), static_cast<size_t>(kPuts));
  for (int i = 0; i < kPuts; ++i) {
    EXPECT_EQ(events[i].kv.key, absl::StrCat("/frag/", i));
    EXPECT_EQ(events[i].kv.value, value(i));
  }
}

TEST(WatchProgressTest, ProgressNotifications) {
  testing::LocalEtcdOptions fast_progress;
  fast_progress.extra_flags = {"--experimental-watch-progress-notify-interval=300ms"};
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start(fast_progress);
  ASSERT_THAT(etcd, IsOk());
  std::unique_ptr<Client> client = ConnectTo((*etcd)->ClientEndpoints(), kWatchClient);
  ASSERT_NE(client, nullptr);
  const int64_t revision = client->Put("/progress/k", "v")->header.revision;
  WatchRecorder recorder;
  auto watch = client->Watch({.range = KeyRange::Key("/progress/other"), .progress_notify = true},
                             &recorder);
  ASSERT_THAT(watch, IsOk());
  ASSERT_TRUE(recorder.WaitForProgress(absl::Seconds(5)));
  EXPECT_GE(recorder.progress()[0], revision);
  // The resume point advanced with the progress, so a later resume cannot
  // fall below a compaction for keys that did not change.
  EXPECT_GT(watch->next_revision(), revision);
}

// Every revision written while etcd is killed and restarted under a running
// watch arrives exactly once and in order: the watch's events equal the store's
// history read afterwards.
TEST(WatchRestartTest, KillAndRestartMidStreamLosesAndRepeatsNothing) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
  ASSERT_THAT(etcd, IsOk());
  std::unique_ptr<Client> watcher = ConnectTo((*etcd)->ClientEndpoints(), kWatchClient);
  std::unique_ptr<Client> writer = ConnectTo((*etcd)->ClientEndpoints(), kWatchClient);
  ASSERT_NE(watcher, nullptr);
  ASSERT_NE(writer, nullptr);
  const int64_t start = writer->Put("/restart/begin", "0")->header.revision;
  WatchRecorder recorder;
  auto watch =
      watcher->Watch({.range = KeyRange::Prefix("/restart/"), .start_revision = start}, &recorder);
  ASSERT_THAT(watch, IsOk());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writing([&] {
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      if (writer->Put(absl::StrCat("/restart/k", i % 50), absl::StrCat(i)).ok()) ++written;
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_THAT((*etcd)->Kill(0), IsOk());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_THAT((*etcd)->Restart(0), IsOk());
  absl::SleepFor(absl::Milliseconds(700));
  stop = true;
  writing.join();
  const int64_t last = writer->Put("/restart/end", "1")->header.revision;
  ASSERT_GT(written.load(), 100);

  // The truth: the whole history, replayed by a fresh watch.
  WatchRecorder history;
  auto replay =
      writer->Watch({.range = KeyRange::Prefix("/restart/"), .start_revision = start}, &history);
  ASSERT_THAT(replay, IsOk());
  const size_t expected = static_cast<size_t>(last - start + 1);
  ASSERT_TRUE(history.WaitForEvents(expected, absl::Seconds(20)));
  ASSERT_TRUE(recorder.WaitForEvents(expected, absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(recorder.revisions(), history.revisions());
  EXPECT_EQ(recorder.revisions().size(), expected);
  EXPECT_GE(watcher->stats().watch.opens, 2u);
  EXPECT_TRUE(recorder.ends().empty());
}

}  // namespace
}  // namespace etcdgrpc
