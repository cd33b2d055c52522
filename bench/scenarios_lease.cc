// Lease scenarios: keep-alive throughput on the shared stream (with its
// raw-stub baseline), 10k idle kept leases, concurrent KeepAliveOnce loops and
// sequential grants.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "go_peer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "scenario.h"
#include "sequential.h"

namespace etcdgrpc::bench {
namespace {

constexpr int kInFlight = 64;

absl::StatusOr<std::vector<int64_t>> GrantMany(Client& client, int64_t count, int64_t ttl) {
  std::vector<int64_t> ids;
  ids.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<LeaseGrantResult> lease = client.Grant(ttl);
    if (!lease.ok()) return lease.status();
    ids.push_back(lease->id);
  }
  return ids;
}

void RevokeAll(Client& client, const std::vector<int64_t>& ids) {
  for (int64_t id : ids) (void)client.Revoke(id);
}

// Keeps `kInFlight` KeepAliveOnceAsync calls in flight, round-robin over the
// leases; each answer issues the next request from its callback.
//
// Lifetime: Run() returns once nothing is left to send and no call is in
// flight, after which the pipeline may be destroyed. So a callback decides
// under the lock, in one step, whether it reuses its slot for the next request
// or gives it up; one that gives up the last slot touches nothing of the
// pipeline after unlocking (a callback that reuses its slot keeps
// `outstanding_` above 0, so Run() cannot return while it issues).
class OncePipeline {
 public:
  OncePipeline(Client& client, const std::vector<int64_t>& ids) : client_(client), ids_(ids) {}

  absl::Status Run(int64_t count, Measurement& measurement) {
    std::vector<int64_t> initial;
    {
      internal::MutexLock lock(&mu_);
      to_send_ = count;
      outstanding_ = 0;
      error_ = absl::OkStatus();
      measurement_ = &measurement;
      for (int64_t id; initial.size() < static_cast<size_t>(kInFlight) && TakeSlot(id);) {
        initial.push_back(id);
      }
    }
    for (int64_t id : initial) Issue(id);
    internal::MutexLock lock(&mu_);
    idle_.Wait(mu_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return to_send_ == 0 && outstanding_ == 0;
    });
    return error_;
  }

 private:
  // Claims the next request (a slot in flight) if any is left to send.
  bool TakeSlot(int64_t& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (to_send_ == 0) return false;
    --to_send_;
    ++outstanding_;
    id = ids_[next_++ % ids_.size()];
    return true;
  }

  // Sends one request whose slot was claimed with TakeSlot().
  void Issue(int64_t id) {
    const absl::Time start = absl::Now();
    client_.KeepAliveOnceAsync(id, [this, start](absl::StatusOr<LeaseKeepAliveResult> result) {
      int64_t next_id;
      bool reuse;
      {
        internal::MutexLock lock(&mu_);
        measurement_->AddLatency(absl::Now() - start);
        if (!result.ok() && error_.ok()) error_ = result.status();
        --outstanding_;
        reuse = TakeSlot(next_id);
        // Under the lock: once it is released, Run() may return and the pipeline go.
        if (!reuse && outstanding_ == 0) idle_.Notify();
      }
      // Without a reused slot the pipeline may already be gone: return at once.
      if (reuse) Issue(next_id);
    });
  }

  Client& client_;
  const std::vector<int64_t>& ids_;
  // Not absl::Mutex: Debian's runs deadlock detection on every lock (common/mutex.h), a cost
  // per operation that the raw baseline's single thread does not pay.
  internal::Mutex mu_;
  internal::CondVar idle_;
  int64_t to_send_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  Measurement* measurement_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// The baseline: one thread, one synchronous LeaseKeepAlive stream on the
// generated stub; the window of 64 is refilled in bursts (buffer_hint on all
// but the last) whenever half of it is free.
class RawKeepAliveStream {
 public:
  RawKeepAliveStream(const std::string& endpoint, const std::vector<int64_t>& ids)
      : stub_(etcdserverpb::Lease::NewStub(
            grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))),
        stream_(stub_->LeaseKeepAlive(&context_)),
        ids_(ids) {}

  ~RawKeepAliveStream() {
    stream_->WritesDone();
    etcdserverpb::LeaseKeepAliveResponse response;
    while (stream_->Read(&response)) {
    }
    (void)stream_->Finish();
  }

  absl::Status Run(int64_t count, Measurement& measurement) {
    int64_t sent = 0;
    int64_t received = 0;
    std::deque<absl::Time> sent_at;
    auto burst = [&](int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        request_.set_id(ids_[next_++ % ids_.size()]);
        grpc::WriteOptions options;
        if (k + 1 < n) options.set_buffer_hint();
        sent_at.push_back(absl::Now());
        if (!stream_->Write(request_, options)) return false;
      }
      sent += n;
      return true;
    };
    if (!burst(std::min<int64_t>(kInFlight, count))) return absl::UnavailableError("write failed");
    etcdserverpb::LeaseKeepAliveResponse response;
    while (received < count) {
      if (!stream_->Read(&response)) return absl::UnavailableError("stream ended");
      ++received;
      measurement.AddLatency(absl::Now() - sent_at.front());
      sent_at.pop_front();
      const int64_t in_flight = sent - received;
      if (in_flight <= kInFlight / 2 && sent < count) {
        if (!burst(std::min<int64_t>(kInFlight - in_flight, count - sent))) {
          return absl::UnavailableError("write failed");
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                           etcdserverpb::LeaseKeepAliveResponse>>
      stream_;
  const std::vector<int64_t>& ids_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  size_t next_ = 0;
};

absl::StatusOr<std::vector<ReportFigures>> KeepAliveStream(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> setup = ConnectClient(env);
  if (!setup.ok()) return setup.status();
  absl::StatusOr<std::vector<int64_t>> ids = GrantMany(**setup, 1000, 60);
  if (!ids.ok()) return ids.status();
  // Each side's stream exists only during its own blocks (see BlockRun).
  std::unique_ptr<Client> client;
  std::unique_ptr<OncePipeline> ours;
  std::unique_ptr<RawKeepAliveStream> raw;
  std::vector<BlockRun> runs = {
      {.report = {.peer = "grpc-raw-stub", .workload = "keepalive_stream_raw_stub"},
       .block = [&](int64_t n, Measurement& m) { return raw->Run(n, m); },
       .prepare =
           [&](int64_t) {
             raw = std::make_unique<RawKeepAliveStream>(env.endpoints.front(), *ids);
             Measurement ignored;
             return raw->Run(kInFlight, ignored);  // the stream is up and warm
           },
       .finish = [&] { raw.reset(); }},
  };
  // Ours, and ours with metrics on (what the instrumentation costs).
  for (const bool metrics : {false, true}) {
    runs.push_back(
        {.report = {.workload = metrics ? "keepalive_stream_metrics_on" : "keepalive_stream"},
         .block = [&](int64_t n, Measurement& m) { return ours->Run(n, m); },
         .prepare = [&, metrics](int64_t) -> absl::Status {
           absl::StatusOr<std::unique_ptr<Client>> connected =
               ConnectClient(env, metrics ? std::make_shared<MetricsRegistry>() : nullptr);
           if (!connected.ok()) return connected.status();
           client = *std::move(connected);
           ours = std::make_unique<OncePipeline>(*client, *ids);
           Measurement ignored;
           return ours->Run(kInFlight, ignored);
         },
         .finish =
             [&] {
               ours.reset();
               client.reset();
             }});
  }
  // --- benchmark report: the same through Go's clientv3 where the Go peer is built (its
  // KeepAliveOnce opens a stream per call: that is what Go's client does).
  absl::StatusOr<std::unique_ptr<GoPeer>> go =
      GoPeer::Start(env, {.workload = "keepalive_stream", .leases = *ids});
  if (!go.ok()) return go.status();
  if (*go) runs.push_back((*go)->Run());
  absl::StatusOr<std::vector<ReportFigures>> figures = RunBlocksInterleaved(
      std::move(runs), env.Scaled(100000), /*warmup_ops=*/2000, /*block_ops=*/10000);
  RevokeAll(**setup, *ids);
  return figures;
}

// Kept leases doing nothing but staying alive: threads, memory and CPU must
// not grow with their number, and each lease gets one request per interval.
absl::StatusOr<std::vector<ReportFigures>> KeepAliveIdle(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  constexpr int64_t kTtl = 30;
  const int64_t count = env.Scaled(10000);
  absl::StatusOr<std::vector<int64_t>> ids = GrantMany(**client, count, kTtl);
  if (!ids.ok()) return ids.status();
  std::vector<KeptLease> kept;
  kept.reserve(ids->size());
  // One lease first, to compare thread counts.
  absl::StatusOr<KeptLease> first =
      (*client)->Keep((*ids)[0], nullptr, {.ttl = absl::Seconds(kTtl)});
  if (!first.ok()) return first.status();
  kept.push_back(*std::move(first));
  absl::SleepFor(absl::Milliseconds(500));
  const int threads_one = ThreadCount();
  for (size_t i = 1; i < ids->size(); ++i) {
    absl::StatusOr<KeptLease> handle =
        (*client)->Keep((*ids)[i], nullptr, {.ttl = absl::Seconds(kTtl)});
    if (!handle.ok()) return handle.status();
    kept.push_back(*std::move(handle));
  }
  // Let the first renewals (sent at once) settle before measuring.
  absl::SleepFor(absl::Seconds(2));
  const uint64_t sent_before = (*client)->stats().keepalive.requests_sent;
  // A whole number of renewal intervals, so that the count per lease is exact.
  const absl::Duration interval = absl::Seconds(kTtl) / 3;
  const double intervals =
      std::max(1.0, std::round(absl::ToDoubleSeconds(absl::Seconds(60) * env.scale) /
                               absl::ToDoubleSeconds(interval)));
  const absl::Duration window = interval * intervals;
  Measurement measurement;
  measurement.Start();
  absl::SleepFor(window);
  measurement.Stop();
  const ::etcdgrpc::KeepAliveStreamStats stats = (*client)->stats().keepalive;
  const double per_lease_interval =
      static_cast<double>(stats.requests_sent - sent_before) / (count * intervals);
  const double cpu_pct =
      100.0 * static_cast<double>(measurement.cpu_us()) / (measurement.seconds() * 1e6);
  Report report{
      .workload = "keepalive_idle_10k",
      .ops = static_cast<int64_t>(stats.requests_sent - sent_before),
      .extra = {{"leases", absl::StrCat(count)},
                {"threads_1_lease", absl::StrCat(threads_one)},
                {"threads", absl::StrCat(ThreadCount())},
                {"cpu_pct_one_core", absl::StrFormat("%.2f", cpu_pct)},
                {"requests_per_lease_per_interval", absl::StrFormat("%.3f", per_lease_interval)},
                {"streams", absl::StrCat(stats.opens)}}};
  std::vector<ReportFigures> figures{PrintReport(report, measurement)};
  kept.clear();
  RevokeAll(**client, *ids);
  return figures;
}

// 16 threads, each looping synchronous KeepAliveOnce on its own lease until the block's
// operations are done; interleaved in blocks with the Go peer's 16 goroutines doing the same.
absl::StatusOr<std::vector<ReportFigures>> KeepAliveOnceConcurrent(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  constexpr int kThreads = 16;
  absl::StatusOr<std::vector<int64_t>> ids = GrantMany(**client, kThreads, 60);
  if (!ids.ok()) return ids.status();
  auto block = [&](int64_t count, Measurement& measurement) -> absl::Status {
    std::atomic<int64_t> remaining{count};
    std::vector<Measurement> per_thread(kThreads);
    std::vector<absl::Status> errors(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (remaining.fetch_sub(1, std::memory_order_relaxed) > 0) {
          const absl::Time start = absl::Now();
          absl::StatusOr<LeaseKeepAliveResult> r = (*client)->KeepAliveOnce((*ids)[t]);
          if (!r.ok()) {
            errors[t] = r.status();
            return;
          }
          per_thread[t].AddLatency(absl::Now() - start);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < kThreads; ++t) {
      if (!errors[t].ok()) return errors[t];
      measurement.AddLatencies(per_thread[t]);
    }
    return absl::OkStatus();
  };
  std::vector<BlockRun> runs = {
      {.report = {.workload = "keepalive_once_concurrent", .extra = {{"threads", "16"}}},
       .block = block}};
  // --- benchmark report: Go's clientv3 where the Go peer is built (16 goroutines, same leases).
  absl::StatusOr<std::unique_ptr<GoPeer>> go =
      GoPeer::Start(env, {.workload = "keepalive_once_concurrent", .leases = *ids});
  if (!go.ok()) return go.status();
  if (*go) runs.push_back((*go)->Run());
  absl::StatusOr<std::vector<ReportFigures>> figures =
      RunBlocksInterleaved(std::move(runs), env.Scaled(150000),
                           /*warmup_ops=*/env.Scaled(2000), /*block_ops=*/env.Scaled(25000));
  RevokeAll(**client, *ids);
  return figures;
}

absl::StatusOr<std::vector<ReportFigures>> LeaseGrant(const BenchEnv& env) {
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(env);
  if (!client.ok()) return client.status();
  std::vector<int64_t> granted;
  const absl::Duration duration = absl::Seconds(5) * env.scale;
  Measurement measurement;
  measurement.Start();
  const absl::Time end = absl::Now() + duration;
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    absl::StatusOr<LeaseGrantResult> lease = (*client)->Grant(60);
    if (!lease.ok()) return lease.status();
    measurement.AddLatency(absl::Now() - start);
    granted.push_back(lease->id);
  }
  measurement.Stop();
  std::vector<ReportFigures> figures{PrintReport(
      {.workload = "lease_grant", .ops = static_cast<int64_t>(granted.size())}, measurement)};
  RevokeAll(**client, granted);
  return figures;
}

}  // namespace

void RegisterLeaseScenarios(std::vector<Scenario>& scenarios) {
  scenarios.push_back({"keepalive_stream",
                       "100k KeepAliveOnceAsync over 1000 leases, 64 in flight, one stream; "
                       "with keepalive_stream_raw_stub interleaved",
                       KeepAliveStream});
  scenarios.push_back({"keepalive_idle_10k",
                       "10k kept leases (TTL 30) idle for 60 s: threads, RSS, CPU, requests",
                       KeepAliveIdle});
  scenarios.push_back(
      {"keepalive_once_concurrent",
       "16 threads looping synchronous KeepAliveOnce, 150k calls (and Go's clientv3 where "
       "built, interleaved)",
       KeepAliveOnceConcurrent});
  scenarios.push_back({"lease_grant", "sequential Grant(60) for 5 s", LeaseGrant});
}

}  // namespace etcdgrpc::bench
