// The client's wire rules proved from the wire: a client keeps many leases and a watch
// through a fault proxy that breaks its connection twice, writing a JSON-lines wire log;
// the wire audit (the library under `etcdgrpc audit`) then finds no lease renewed twice in
// an interval or late, no revision delivered twice, no gap.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cli/wire_audit.h"
#include "cli_runner.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/wire_log.h"
#include "fault_proxy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "shared_etcd.h"
#include "status_matchers.h"
#include "test_client.h"
#include "wait_until.h"

namespace etcdgrpc {
namespace {

using testing::FaultProxy;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::IsOk;
using ::testing::SizeIs;

// Revisions and keys a watch delivered.
class Collector : public WatchListener {
 public:
  void OnEvents(const WatchEvents& batch) override {
    absl::MutexLock lock(&mu_);
    for (const Event& event : batch.events) {
      keys_.insert(event.kv.key);
      last_revision_ = std::max(last_revision_, event.kv.mod_revision);
    }
  }
  int64_t last_revision() {
    absl::MutexLock lock(&mu_);
    return last_revision_;
  }
  std::set<std::string> keys() {
    absl::MutexLock lock(&mu_);
    return keys_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> keys_ ABSL_GUARDED_BY(mu_);
  int64_t last_revision_ ABSL_GUARDED_BY(mu_) = 0;
};

class WireAuditRulesTest : public testing::SharedEtcdTest {};

TEST_F(WireAuditRulesTest, LeasesAndAWatchKeepTheWireRulesAcrossStreamBreaks) {
  constexpr int kLeases = 32;
  constexpr int kPuts = 120;
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/wire_audit_rules_", getpid(), ".jsonl");
  std::remove(path.c_str());
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
      FaultProxy::Start({.target_port = std::stoi(etcd_->ClientEndpoint(0).substr(10))});
  ASSERT_THAT(proxy, IsOk());
  const std::string prefix = testing::TestPrefix();
  int64_t last_put = 0;
  std::set<std::string> delivered;
  {
    absl::StatusOr<std::shared_ptr<WireLogSink>> sink =
        OpenWireLogFile(path, WireLogFileOptions{.format = WireLogFormat::kJson});
    ASSERT_THAT(sink, IsOk());
    std::unique_ptr<Client> client = testing::ConnectTo(
        {(*proxy)->address()}, {.stream_backoff = testing::kFastStreamBackoff, .wire_log = *sink});
    ASSERT_NE(client, nullptr);
    // TTL 3 s: one renewal a second, so the run covers several intervals.
    std::vector<KeptLease> kept;
    for (int i = 0; i < kLeases; ++i) {
      absl::StatusOr<LeaseGrantResult> grant = client->Grant(3);
      ASSERT_THAT(grant, IsOk());
      absl::StatusOr<KeptLease> keep = client->Keep(
          grant->id, nullptr, {.ttl = absl::Seconds(grant->ttl), .granted_at = grant->granted_at});
      ASSERT_THAT(keep, IsOk());
      kept.push_back(*std::move(keep));
    }
    absl::StatusOr<PutResult> start = client->Put(prefix + "start", "");
    ASSERT_THAT(start, IsOk());
    Collector collector;
    absl::StatusOr<WatchHandle> watch = client->Watch(
        {.range = KeyRange::Prefix(prefix + "k"), .start_revision = start->header.revision + 1},
        &collector);
    ASSERT_THAT(watch, IsOk());
    for (int i = 0; i < kPuts; ++i) {
      // Two breaks of every stream (and call) the client has, a third and two thirds in.
      if (i == kPuts / 3 || i == 2 * kPuts / 3) (*proxy)->Reset();
      // A write cut by the break may or may not have been applied: tried until one answers;
      // the watch is compared with the store below, not with this count.
      for (int attempt = 0; attempt < 20; ++attempt) {
        absl::StatusOr<PutResult> put = client->Put(absl::StrCat(prefix, "k", i), "v");
        if (put.ok()) {
          last_put = put->header.revision;
          break;
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
      absl::SleepFor(absl::Milliseconds(30));
    }
    ASSERT_GT(last_put, 0);
    ASSERT_TRUE(testing::WaitUntil([&] { return collector.last_revision() >= last_put; },
                                   absl::Seconds(10)));
    delivered = collector.keys();
    absl::StatusOr<GetResult> stored = client->Range(KeyRange::Prefix(prefix + "k"));
    ASSERT_THAT(stored, IsOk());
    std::set<std::string> keys;
    for (const KeyValue& kv : stored->kvs) keys.insert(kv.key);
    EXPECT_EQ(delivered, keys);
  }  // the client closes: every line is in the file

  absl::StatusOr<cli::WireAuditReport> report = cli::AuditWireLogFile(path);
  ASSERT_THAT(report, IsOk());
  const std::string text = cli::FormatWireAuditText(*report);
  EXPECT_THAT(report->violations, IsEmpty()) << text;
  EXPECT_THAT(report->problems, IsEmpty()) << text;
  // Every lease renewed over several intervals, on the streams before and after the breaks.
  ASSERT_THAT(report->leases, SizeIs(kLeases)) << text;
  for (const cli::WireLeaseSummary& lease : report->leases) {
    EXPECT_THAT(lease.renewals, Ge(5)) << text;
    EXPECT_EQ(lease.answers, lease.renewals) << text;
  }
  // One watch, re-created on each new stream, every write delivered once.
  ASSERT_THAT(report->watches, SizeIs(1)) << text;
  EXPECT_THAT(report->watches[0].creates, SizeIs(Ge(3u))) << text;
  EXPECT_EQ(report->watches[0].events, static_cast<int64_t>(delivered.size())) << text;
  int watch_streams = 0;
  int keepalive_streams = 0;
  for (const cli::WireStreamSummary& stream : report->streams) {
    if (stream.method == "/etcdserverpb.Watch/Watch") ++watch_streams;
    if (stream.method == "/etcdserverpb.Lease/LeaseKeepAlive") ++keepalive_streams;
  }
  EXPECT_THAT(watch_streams, Ge(3)) << text;
  EXPECT_THAT(keepalive_streams, Ge(3)) << text;

  // The command reads the same log: a clean audit exits 0, in text and in JSON.
  testing::RunResult run = testing::RunProgram({ETCDGRPC_CLI, "audit", path}, "");
  EXPECT_EQ(run.exit_code, 0) << run;
  EXPECT_THAT(run.out, HasSubstr("0 violations, 0 unreadable lines")) << run;
  run = testing::RunProgram({ETCDGRPC_CLI, "-w", "json", "audit", path}, "");
  EXPECT_EQ(run.exit_code, 0) << run;
  const nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run;
  EXPECT_EQ(json["exit_code"], 0);
  EXPECT_EQ(json["leases"].size(), static_cast<size_t>(kLeases));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace etcdgrpc
