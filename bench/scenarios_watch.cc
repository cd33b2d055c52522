// Watch scenarios: events delivered per client CPU (batched and single puts,
// each with its raw-stub baseline), many watches on one client, and put to
// event latency. Writers run in a separate process (watch_writer.h) so that
// only the watching process is measured.
#include <malloc.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "go_peer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "scenario.h"
#include "sequential.h"
#include "watch_writer.h"

namespace etcdgrpc::bench {
namespace {

void RecordLatency(Measurement& measurement, const std::string& value) {
  if (int64_t written = WrittenAtMicros(value); written > 0) {
    measurement.AddLatency(absl::Microseconds(absl::ToUnixMicros(absl::Now()) - written));
  }
}

// Counts delivered events; Wait() returns once `target` were seen.
class CountingListener : public WatchListener {
 public:
  void Reset(int64_t target, Measurement* measurement) {
    absl::MutexLock lock(&mu_);
    seen_ = 0;
    target_ = target;
    measurement_ = measurement;
  }
  void OnEvents(const WatchEvents& batch) override {
    absl::MutexLock lock(&mu_);
    for (const Event& event : batch.events) {
      if (measurement_ != nullptr) RecordLatency(*measurement_, event.kv.value);
    }
    seen_ += static_cast<int64_t>(batch.events.size());
  }
  void OnProgress(int64_t) override {
    absl::MutexLock lock(&mu_);
    progressed_ = true;
  }
  void OnEnd(const WatchEnd& end) override {
    absl::MutexLock lock(&mu_);
    ended_ = end.status;
  }
  absl::Status WaitForProgress(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&progressed_), timeout)) {
      return absl::DeadlineExceededError("the watch was not created in time");
    }
    progressed_ = false;
    return absl::OkStatus();
  }
  absl::Status Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this]()
                    ABSL_NO_THREAD_SAFETY_ANALYSIS { return seen_ >= target_ || !ended_.ok(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("saw ", seen_, " of ", target_, " events in time"));
    }
    return ended_;
  }

 private:
  absl::Mutex mu_;
  int64_t seen_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t target_ ABSL_GUARDED_BY(mu_) = 0;
  Measurement* measurement_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Status ended_ ABSL_GUARDED_BY(mu_);
  bool progressed_ ABSL_GUARDED_BY(mu_) = false;
};

// The baseline: one synchronous Watch stream on the generated stub, read on
// the benchmark thread.
class RawWatch {
 public:
  static absl::StatusOr<std::unique_ptr<RawWatch>> Start(const std::string& endpoint,
                                                         const std::string& prefix) {
    auto raw = std::unique_ptr<RawWatch>(new RawWatch(endpoint));
    etcdserverpb::WatchRequest request;
    request.mutable_create_request()->set_key(prefix);
    request.mutable_create_request()->set_range_end(PrefixRangeEnd(prefix));
    if (!raw->stream_->Write(request)) return absl::UnavailableError("raw watch: write failed");
    etcdserverpb::WatchResponse created;
    if (!raw->stream_->Read(&created) || !created.created()) {
      return absl::UnavailableError("raw watch: not created");
    }
    return raw;
  }
  ~RawWatch() {
    context_.TryCancel();
    (void)stream_->Finish();
  }
  absl::Status ReadEvents(int64_t count, Measurement& measurement) {
    int64_t seen = 0;
    while (seen < count) {
      if (!stream_->Read(&response_)) return absl::UnavailableError("raw watch: stream ended");
      for (const mvccpb::Event& event : response_.events()) {
        RecordLatency(measurement, event.kv().value());
      }
      seen += response_.events_size();
    }
    return absl::OkStatus();
  }

 private:
  explicit RawWatch(const std::string& endpoint)
      : stub_(etcdserverpb::Watch::NewStub(
            grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))),
        stream_(stub_->Watch(&context_)) {}
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
  etcdserverpb::WatchResponse response_;
};

// One watch on a prefix; a writer process puts events (batched or single)
// under it; ops = events received. Interleaved with the raw-stub baseline in
// blocks, each block one writer run; each side's client or stream exists only
// during its own blocks.
absl::StatusOr<std::vector<ReportFigures>> WatchThroughput(const BenchEnv& env,
                                                           const std::string& workload,
                                                           const std::string& mode, int64_t total,
                                                           int64_t block) {
  const std::string ours_prefix = absl::StrCat("/bench/", workload, "/ours/");
  const std::string raw_prefix = absl::StrCat("/bench/", workload, "/raw/");
  const std::string ours_metrics_prefix = absl::StrCat("/bench/", workload, "/ours_metrics/");
  std::unique_ptr<WriterProcess> writer;
  auto spawn = [&](const std::string& prefix, int64_t count) -> absl::Status {
    WriterPlan plan;
    plan.endpoints = env.endpoints;
    plan.prefix = prefix;
    plan.mode = mode;
    plan.count = count;
    absl::StatusOr<WriterProcess> spawned = WriterProcess::Spawn(env.self_path, plan);
    if (!spawned.ok()) return spawned.status();
    writer = std::make_unique<WriterProcess>(*std::move(spawned));
    return absl::OkStatus();
  };

  std::unique_ptr<RawWatch> raw;
  std::unique_ptr<Client> client;
  CountingListener listener;
  std::optional<WatchHandle> watch;
  // Ours, with metrics off or on (what the instrumentation costs), each on its own prefix.
  auto start_ours = [&](bool metrics, const std::string& prefix, int64_t count) -> absl::Status {
    absl::StatusOr<std::unique_ptr<Client>> connected =
        ConnectClient(env, metrics ? std::make_shared<MetricsRegistry>() : nullptr);
    if (!connected.ok()) return connected.status();
    client = *std::move(connected);
    absl::StatusOr<WatchHandle> created =
        client->Watch({.range = KeyRange::Prefix(prefix)}, &listener);
    if (!created.ok()) return created.status();
    watch = *std::move(created);
    // The creates go before the progress request: once it is answered the
    // watch exists and nothing written afterwards is missed. (No measurement:
    // one local to this function would dangle once it returns.)
    listener.Reset(0, nullptr);
    if (absl::Status s = client->RequestProgress(); !s.ok()) return s;
    if (absl::Status s = listener.WaitForProgress(absl::Seconds(10)); !s.ok()) return s;
    return spawn(prefix, count);
  };
  auto stop_ours = [&] {
    listener.Reset(0, nullptr);
    watch.reset();
    client.reset();
  };
  const absl::Duration timeout = absl::Seconds(120);
  std::vector<BlockRun> runs = {
      {.report = {.peer = "grpc-raw-stub", .workload = workload + "_raw_stub"},
       .block = [&](int64_t count, Measurement& m) -> absl::Status {
         if (absl::Status s = writer->Go(); !s.ok()) return s;
         if (absl::Status s = raw->ReadEvents(count, m); !s.ok()) return s;
         return writer->Wait();
       },
       .prepare = [&](int64_t count) -> absl::Status {
         absl::StatusOr<std::unique_ptr<RawWatch>> started =
             RawWatch::Start(env.endpoints.front(), raw_prefix);
         if (!started.ok()) return started.status();
         raw = *std::move(started);
         return spawn(raw_prefix, count);
       },
       .finish = [&] { raw.reset(); }}};
  for (const bool metrics : {false, true}) {
    runs.push_back({.report = {.workload = metrics ? workload + "_metrics_on" : workload},
                    .block = [&](int64_t count, Measurement& m) -> absl::Status {
                      listener.Reset(count, &m);
                      if (absl::Status s = writer->Go(); !s.ok()) return s;
                      absl::Status waited = listener.Wait(timeout);
                      listener.Reset(0, nullptr);
                      if (!waited.ok()) return waited;
                      return writer->Wait();
                    },
                    .prepare =
                        [&, metrics](int64_t count) {
                          return start_ours(metrics, metrics ? ours_metrics_prefix : ours_prefix,
                                            count);
                        },
                    .finish = stop_ours});
  }
  // --- benchmark report: the same through Go's clientv3 where the Go peer is built; its watch
  // too exists only during its blocks.
  const std::string go_prefix = absl::StrCat("/bench/", workload, "/go/");
  absl::StatusOr<std::unique_ptr<GoPeer>> go =
      GoPeer::Start(env, {.workload = workload, .prefix = go_prefix});
  if (!go.ok()) return go.status();
  if (GoPeer* peer = go->get(); peer != nullptr) {
    BlockRun run = peer->Run();
    run.prepare = [&, peer](int64_t count) -> absl::Status {
      if (absl::Status s = peer->Prepare(); !s.ok()) return s;
      return spawn(go_prefix, count);
    };
    run.block = [&, peer](int64_t count, Measurement&) -> absl::Status {
      if (absl::Status s = peer->StartBlock(count); !s.ok()) return s;
      if (absl::Status s = writer->Go(); !s.ok()) return s;
      if (absl::Status s = peer->AwaitBlock(); !s.ok()) return s;
      return writer->Wait();
    };
    runs.push_back(std::move(run));
  }
  return RunBlocksInterleaved(std::move(runs), total,
                              /*warmup_ops=*/std::min<int64_t>(block, 1000), block);
}

// Many watches on distinct keys of one client; every key put `rounds` times.
absl::StatusOr<std::vector<ReportFigures>> WatchMany(const BenchEnv& env, int64_t watches,
                                                     const std::string& workload) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string prefix = absl::StrCat("/bench/", workload, "/");
  constexpr int64_t kRounds = 10;
  // One listener for all watches (the count is what matters), so that the
  // memory per watch is the client's, not the benchmark's.
  CountingListener listener;
  std::vector<WatchHandle> handles;
  handles.reserve(watches);
  // One watch first, for the thread count to compare with.
  auto add = [&](int64_t i) -> absl::Status {
    absl::StatusOr<WatchHandle> watch =
        (*client)->Watch({.range = KeyRange::Key(absl::StrCat(prefix, i))}, &listener);
    if (!watch.ok()) return watch.status();
    handles.push_back(*std::move(watch));
    return absl::OkStatus();
  };
  if (absl::Status s = add(0); !s.ok()) return s;
  absl::SleepFor(absl::Milliseconds(300));
  const int threads_one = ThreadCount();
  // Freed transient buffers (gRPC's, the allocator's per-thread arenas) are
  // returned first, so that the figure is memory the watches keep.
  malloc_trim(0);
  const double rss_before = RssMb();
  for (int64_t i = 1; i < watches; ++i) {
    if (absl::Status s = add(i); !s.ok()) return s;
  }
  // All created once a progress request is answered (creates go first).
  if (absl::Status s = (*client)->RequestProgress(); !s.ok()) return s;
  absl::SleepFor(absl::Seconds(1));
  malloc_trim(0);
  const double rss_watches = RssMb();
  const int threads_many = ThreadCount();

  Measurement measurement(watches * kRounds);
  listener.Reset(watches * kRounds, &measurement);
  // On every way out (an error return too) the listener lets go of the
  // measurement before it is destroyed: the watches (destroyed later) may
  // still deliver events until then.
  absl::Cleanup detach = [&listener] { listener.Reset(0, nullptr); };
  WriterPlan plan;
  plan.endpoints = env.endpoints;
  plan.prefix = prefix;
  plan.mode = "keys";
  plan.keys = watches;
  plan.rounds = kRounds;
  absl::StatusOr<WriterProcess> writer = WriterProcess::Spawn(env.self_path, plan);
  if (!writer.ok()) return writer.status();
  measurement.Start();
  if (absl::Status s = writer->Go(); !s.ok()) return s;
  if (absl::Status s = listener.Wait(absl::Seconds(300)); !s.ok()) return s;
  measurement.Stop();
  if (absl::Status s = writer->Wait(); !s.ok()) return s;
  listener.Reset(0, nullptr);
  const ::etcdgrpc::WatchStreamStats stats = (*client)->stats().watch;
  return std::vector{PrintReport(
      {.workload = workload,
       .ops = watches * kRounds,
       .extra = {{"watches", absl::StrCat(watches)},
                 {"threads_1_watch", absl::StrCat(threads_one)},
                 {"threads", absl::StrCat(threads_many)},
                 {"rss_per_watch_kb",
                  absl::StrFormat("%.2f", (rss_watches - rss_before) * 1024.0 / watches)},
                 {"streams", absl::StrCat(stats.opens)}}},
      measurement)};
}

// Put through the client, wait for the watch to deliver it: 10k samples.
absl::StatusOr<std::vector<ReportFigures>> WatchLatency(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  const std::string key = "/bench/watch_latency/key";
  CountingListener listener;
  absl::StatusOr<WatchHandle> watch = (*client)->Watch({.range = KeyRange::Key(key)}, &listener);
  if (!watch.ok()) return watch.status();
  if (absl::Status s = (*client)->RequestProgress(); !s.ok()) return s;
  absl::SleepFor(absl::Milliseconds(200));
  const int64_t samples = env.Scaled(10000);
  Measurement measurement(samples);
  Measurement discarded;
  // As in WatchMany: the watch outlives `discarded`, the listener must not.
  absl::Cleanup detach = [&listener] { listener.Reset(0, nullptr); };
  measurement.Start();
  for (int64_t i = 0; i < samples; ++i) {
    listener.Reset(1, &discarded);
    const absl::Time start = absl::Now();
    if (auto put = (*client)->Put(key, "v"); !put.ok()) return put.status();
    if (absl::Status s = listener.Wait(absl::Seconds(10)); !s.ok()) return s;
    measurement.AddLatency(absl::Now() - start);
  }
  measurement.Stop();
  listener.Reset(0, nullptr);
  return std::vector{PrintReport({.workload = "watch_latency", .ops = samples}, measurement)};
}

}  // namespace

void RegisterWatchScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"watch_batched",
                       "one prefix watch; a writer process puts 100k keys in Txns of 100; with "
                       "watch_batched_raw_stub interleaved",
                       [](const BenchEnv& env) {
                         return WatchThroughput(env, "watch_batched", "batched", env.Scaled(100000),
                                                env.Scaled(20000));
                       }});
  scenarios.push_back({"watch_single",
                       "one prefix watch; a writer process makes 20k single puts; with "
                       "watch_single_raw_stub interleaved",
                       [](const BenchEnv& env) {
                         return WatchThroughput(env, "watch_single", "single", env.Scaled(20000),
                                                env.Scaled(5000));
                       }});
  scenarios.push_back(
      {"watch_many_1k", "1,000 key watches on one client, every key put 10 times",
       [](const BenchEnv& env) { return WatchMany(env, env.Scaled(1000), "watch_many_1k"); }});
  scenarios.push_back(
      {"watch_many_10k", "10,000 key watches on one client, every key put 10 times",
       [](const BenchEnv& env) { return WatchMany(env, env.Scaled(10000), "watch_many_10k"); }});
  scenarios.push_back(
      {"watch_latency", "put -> event delivery, same process, 10k samples", WatchLatency});
}

}  // namespace etcdgrpc::bench
