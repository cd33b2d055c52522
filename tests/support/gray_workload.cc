#include "gray_workload.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace etcdgrpc::testing {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t ProcStatus(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atoll(line.c_str() + prefix.size());
  }
  return 0;
}

// Losses further apart than this start a new batch in the log.
constexpr int64_t kLossBatchGapNs = 1'000'000'000;
// How long a registration whose key etcd deleted may take to be back (it
// registers again at once: a Grant and a Txn).
constexpr int64_t kReRegisterBoundNs = 3'000'000'000;

std::string Now() { return absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::UTCTimeZone()); }

}  // namespace

class GrayWorkload::LeaseLog final : public LeaseListener {
 public:
  explicit LeaseLog(GrayWorkload* owner) : owner_(owner) {}
  void OnRenewed(int64_t, int64_t) override {
    owner_->renewals_.fetch_add(1, std::memory_order_relaxed);
    const int64_t mark = owner_->mark_ns_.load(std::memory_order_relaxed);
    if (mark == 0) return;
    const int64_t now = SteadyNs();
    // Answers already on their way when the fault began do not count.
    if (now < mark + 50'000'000) return;
    int64_t expected = 0;
    owner_->first_renewal_ns_.compare_exchange_strong(expected, now);
  }
  void OnLost(int64_t lease_id, const LeaseLoss& loss) override {
    if (loss.reason == LeaseLossReason::kClientClosed) return;
    owner_->NoteLoss(absl::StrCat("lease ", absl::Hex(lease_id), " lost: ", loss.status.ToString()),
                     SteadyNs(), loss.reason == LeaseLossReason::kNotFound);
  }

 private:
  GrayWorkload* const owner_;
};

class GrayWorkload::EventLog final : public WatchListener {
 public:
  struct Seen {
    std::string key;
    int64_t revision;
    absl::Time at;
  };
  explicit EventLog(GrayWorkload* owner, int index) : owner_(owner), index_(index) {}
  void OnEvents(const WatchEvents& batch) override {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    for (const Event& event : batch.events) {
      seen_.push_back(Seen{event.kv.key, event.kv.mod_revision, now});
    }
  }
  void OnEnd(const WatchEnd& end) override {
    if (end.status.code() == absl::StatusCode::kCancelled) return;  // closing
    owner_->Violation(absl::StrCat("watch ", index_, " ended: ", end.status.ToString()));
  }
  std::vector<Seen> seen() const {
    absl::MutexLock lock(&mu_);
    return seen_;
  }
  int64_t last_revision() const {
    absl::MutexLock lock(&mu_);
    return seen_.empty() ? 0 : seen_.back().revision;
  }

 private:
  GrayWorkload* const owner_;
  const int index_;
  mutable absl::Mutex mu_;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
};

class GrayWorkload::StateLog final : public registry::RegistrationListener {
 public:
  explicit StateLog(GrayWorkload* owner) : owner_(owner) {}
  void OnStateChange(const registry::RegistrationEvent& event) override {
    if (event.state == registry::RegistrationState::kLost) {
      owner_->NoteLoss(absl::StrCat("registration lost: ", event.reason.ToString()), SteadyNs(),
                       absl::IsNotFound(event.reason));
    }
  }

 private:
  GrayWorkload* const owner_;
};

std::string GrayReport::Summary() const {
  std::string events;
  for (int64_t n : events_delivered) absl::StrAppend(&events, events.empty() ? "" : "/", n);
  return absl::StrFormat(
      "violations=%d leases_lost=%d leases_replaced=%d leases_kept=%d renewals=%d "
      "registrations_lost=%d revoked_by_stale_leader=%d/%d registry_gaps_after_it=%d "
      "writes_acked=%d writes_failed=%d "
      "committed=%d "
      "delivered=%s latency_p50_ms=%.1f latency_p99_ms=%.1f latency_max_ms=%.1f probes=%d "
      "probes_failed=%d probe_max_ms=%.1f threads=%d rss_mb=%.1f",
      violations.size(), leases_lost, leases_replaced, leases_kept, renewals, registrations_lost,
      leases_revoked_by_stale_leader, registrations_revoked_by_stale_leader,
      shortfalls_after_stale_revocation, writes_acked, writes_failed, writes_committed, events,
      absl::ToDoubleMilliseconds(latency_p50), absl::ToDoubleMilliseconds(latency_p99),
      absl::ToDoubleMilliseconds(latency_max), probes, probes_failed,
      absl::ToDoubleMilliseconds(probe_max), threads, rss_mb);
}

GrayWorkload::GrayWorkload(GrayWorkloadOptions options)
    : options_(std::move(options)), start_ns_(SteadyNs()) {}

absl::StatusOr<std::unique_ptr<GrayWorkload>> GrayWorkload::Start(GrayWorkloadOptions options) {
  std::unique_ptr<GrayWorkload> workload(new GrayWorkload(std::move(options)));
  if (absl::Status s = workload->Setup(); !s.ok()) return s;
  return workload;
}

absl::Status GrayWorkload::Setup() {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options_.client);
  if (!client.ok()) return client.status();
  client_ = *std::move(client);
  absl::StatusOr<std::unique_ptr<Client>> writer = Client::Connect(options_.writer);
  if (!writer.ok()) return writer.status();
  writer_client_ = *std::move(writer);

  lease_log_ = std::make_unique<LeaseLog>(this);
  for (int i = 0; i < options_.leases; ++i) {
    absl::StatusOr<LeaseGrantResult> grant = client_->Grant(options_.lease_ttl_seconds);
    if (!grant.ok()) return grant.status();
    absl::StatusOr<KeptLease> kept =
        client_->Keep(grant->id, lease_log_.get(),
                      {.ttl = absl::Seconds(grant->ttl), .granted_at = grant->granted_at});
    if (!kept.ok()) return kept.status();
    kept_.push_back(*std::move(kept));
  }

  absl::StatusOr<PutResult> start = writer_client_->Put(options_.prefix + "-start", "");
  if (!start.ok()) return start.status();
  start_revision_ = start->header.revision + 1;
  for (int i = 0; i < options_.watches; ++i) {
    event_logs_.push_back(std::make_unique<EventLog>(this, i));
    absl::StatusOr<WatchHandle> watch = client_->Watch(
        {.range = KeyRange::Prefix(options_.prefix + "/"), .start_revision = start_revision_},
        event_logs_.back().get());
    if (!watch.ok()) return watch.status();
    watches_.push_back(*std::move(watch));
  }

  if (options_.registrations > 0) {
    state_log_ = std::make_unique<StateLog>(this);
    registrar_ = std::make_unique<registry::Registrar>(
        *client_, registry::RegistrarOptions{.ttl = absl::Seconds(options_.lease_ttl_seconds)});
    for (int i = 0; i < options_.registrations; ++i) {
      absl::StatusOr<registry::Registration> registration =
          registrar_->Register({.service = options_.service,
                                .id = absl::StrCat("instance-", i),
                                .address = absl::StrCat("127.0.0.1:", 20000 + i)},
                               state_log_.get());
      if (!registration.ok()) return registration.status();
      registrations_.push_back(*std::move(registration));
    }
  }
  if (options_.resolver_view) {
    resolver_ = std::make_unique<resolver::Resolver>(*client_);
    absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view =
        resolver_->Watch(options_.service);
    if (!view.ok()) return view.status();
    view_ = *std::move(view);
  }
  for (const std::string& endpoint : options_.monitor_endpoints) {
    ClientOptions monitor;
    monitor.endpoints = {endpoint};
    monitor.dial_timeout = absl::ZeroDuration();
    monitor.request_timeout = absl::Milliseconds(400);
    monitor.require_leader = false;
    absl::StatusOr<std::unique_ptr<Client>> monitor_client = Client::Connect(monitor);
    if (!monitor_client.ok()) return monitor_client.status();
    monitors_.push_back(*std::move(monitor_client));
  }
  writer_ = std::thread([this] { WriterLoop(); });
  prober_ = std::thread([this] { ProbeLoop(); });
  sampler_ = std::thread([this] { SampleLoop(); });
  monitor_ = std::thread([this] { MonitorLoop(); });
  return absl::OkStatus();
}

GrayWorkload::~GrayWorkload() {
  stop_.store(true);
  monitor_stop_.store(true);
  if (writer_.joinable()) writer_.join();
  if (prober_.joinable()) prober_.join();
  if (sampler_.joinable()) sampler_.join();
  if (monitor_.joinable()) monitor_.join();
  view_.reset();
  resolver_.reset();
  registrations_.clear();
  registrar_.reset();
  watches_.clear();
  kept_.clear();
  client_.reset();
  writer_client_.reset();
}

void GrayWorkload::Violation(std::string text) {
  std::string line = absl::StrCat(Now(), " ", text);
  std::fprintf(stderr, "gray workload: VIOLATION %s\n", line.c_str());
  absl::MutexLock lock(&mu_);
  violations_.push_back(std::move(line));
}

void GrayWorkload::Shortfall(std::string text) {
  const int64_t now = SteadyNs();
  {
    absl::MutexLock lock(&mu_);
    // After a stale leader resumed, etcd may revoke the registrations' leases
    // and delete their keys: the sampler (reading etcd directly) can see that
    // before the registrations hear of it. Judged in Finish(), once the
    // losses that explain it are known.
    if (InStaleLeaderWindow(now)) {
      deferred_shortfalls_.push_back(MissingSample{absl::StrCat(Now(), " ", text), now});
      return;
    }
  }
  Violation(std::move(text));
}

bool GrayWorkload::InStaleLeaderWindow(int64_t at_ns) const {
  const int64_t window = absl::ToInt64Nanoseconds(stale_leader_window());
  for (int64_t resumed : stale_leader_resumes_) {
    if (resumed <= at_ns && at_ns <= resumed + window) return true;
  }
  return false;
}

void GrayWorkload::SetOutage(bool outage) {
  absl::MutexLock lock(&mu_);
  outage_ = outage;
  UpdateReachable();
}

void GrayWorkload::Log(const std::string& text) const {
  if (options_.log) {
    options_.log(text);
  } else {
    std::fprintf(stderr, "gray workload: %s\n", text.c_str());
  }
}

void GrayWorkload::MonitorLoop() {
  bool had_leader = true;
  std::string last_seen;
  while (!monitor_stop_.load()) {
    SampleClient();
    if (monitors_.empty()) {
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    std::map<uint64_t, int> votes;
    std::string seen;
    for (size_t i = 0; i < monitors_.size(); ++i) {
      absl::StatusOr<EndpointStatus> status = monitors_[i]->Status(options_.monitor_endpoints[i]);
      if (status.ok() && status->leader != 0) ++votes[status->leader];
      absl::StrAppend(&seen, " ", i, ":",
                      status.ok() ? absl::StrCat(absl::Hex(status->leader))
                                  : absl::StatusCodeToString(status.status().code()));
    }
    if (seen != last_seen) Timeline(absl::StrCat("leaders as members see them:", seen));
    last_seen = seen;
    bool has_leader = false;
    for (const auto& [leader, count] : votes) {
      has_leader |= 2 * count > static_cast<int>(monitors_.size());
    }
    if (has_leader != had_leader) {
      if (options_.leaderless_excuses_losses) {
        Log(has_leader ? "  a majority agrees on a leader again"
                       : absl::StrCat("  no leader a majority agrees on:", seen));
        absl::MutexLock lock(&mu_);
        leaderless_ = !has_leader;
        UpdateReachable();
      }
      had_leader = has_leader;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

void GrayWorkload::SampleClient() {
  const ClientStats stats = client_->stats();
  const auto describe = [](const StreamStats& stream) {
    return absl::StrCat(stream.state, " on ", stream.endpoint, ", opens ", stream.opens,
                        ", stalls ", stream.stalls);
  };
  const int64_t now = SteadyNs();
  // Renewals come in bursts a third of a TTL apart (every lease is renewed at
  // once on a new stream): half a TTL without an answer is a gap.
  const int64_t silence = absl::ToInt64Nanoseconds(absl::Seconds(options_.lease_ttl_seconds) / 2);
  ClientSample& last = client_sample_;
  if (std::string keepalive = describe(stats.keepalive); keepalive != last.keepalive) {
    Timeline(absl::StrCat("keep-alive stream: ", keepalive));
    last.keepalive = std::move(keepalive);
  }
  if (std::string watch = describe(stats.watch); watch != last.watch) {
    Timeline(absl::StrCat("watch stream: ", watch));
    last.watch = std::move(watch);
  }
  if (stats.keepalive.responses != last.responses || last.answered_ns == 0) {
    if (last.silent) {
      Timeline(absl::StrFormat("keep-alive answers again after %.1fs",
                               static_cast<double>(now - last.answered_ns) / 1e9));
    }
    last.silent = false;
    last.responses = stats.keepalive.responses;
    last.answered_ns = now;
  } else if (!last.silent && now - last.answered_ns > silence) {
    last.silent = true;
    Timeline(absl::StrCat(
        "no keep-alive answer for ", absl::FormatDuration(absl::Nanoseconds(silence)), " (",
        stats.keepalive.requests_sent, " requests sent, ", stats.keepalive.responses, " answers)"));
  }
}

void GrayWorkload::Timeline(std::string text) {
  std::string line =
      absl::StrFormat("[%6.1fs] %s", static_cast<double>(SteadyNs() - start_ns_) / 1e9, text);
  absl::MutexLock lock(&mu_);
  timeline_.push_back(std::move(line));
}

void GrayWorkload::UpdateReachable() {
  const bool reachable = !outage_ && !leaderless_;
  if (majority_.load() == reachable) return;
  majority_.store(reachable);
  if (!reachable) {
    outages_.emplace_back(SteadyNs(), 0);
  } else if (!outages_.empty()) {
    outages_.back().second = SteadyNs();
  }
}

void GrayWorkload::StaleLeaderResumed() {
  absl::MutexLock lock(&mu_);
  stale_leader_resumes_.push_back(SteadyNs());
}

absl::Duration GrayWorkload::stale_leader_window() const {
  // The stale leader proposes its revocations as it resumes; they may commit
  // until its request time-out (5 s + 2 election time-outs: its log says
  // "failed to revoke lease ... request timed out" 7 s after the resume, yet
  // the new leader applied some of them), and the client hears it on the
  // lease's next renewal, or from the watch: 8.6 s after the resume in one run.
  return absl::Seconds(7) + absl::Seconds(options_.lease_ttl_seconds);
}

bool GrayWorkload::RevokedByStaleLeader(const Loss& loss) const {
  return loss.revoked_by_etcd && InStaleLeaderWindow(loss.at_ns);
}

bool GrayWorkload::Excused(int64_t at_ns) const {
  // The invariant: no lease lost while a majority (with a leader) was
  // reachable for a whole TTL before the loss. A lease answered just before
  // the outage began runs out up to a TTL after it ended; the slack covers
  // the monitor's 200 ms polls and a leader that members already name but
  // that has not yet taken over the leases (etcd extends every lease when a
  // new leader takes over, so renewals after that are in time).
  const int64_t window =
      absl::ToInt64Nanoseconds(absl::Seconds(options_.lease_ttl_seconds) + absl::Seconds(2));
  for (const auto& [start, end] : outages_) {
    if (start <= at_ns && (end == 0 || at_ns <= end + window)) return true;
  }
  return false;
}

std::string GrayWorkload::OutageBefore(int64_t at_ns) const {
  const std::pair<int64_t, int64_t>* last = nullptr;
  for (const auto& outage : outages_) {
    if (outage.first <= at_ns) last = &outage;
  }
  if (last == nullptr) return "no outage before";
  if (last->second == 0 || at_ns <= last->second) return "during an outage";
  return absl::StrFormat("%.1fs after an outage of %.1fs ended",
                         static_cast<double>(at_ns - last->second) / 1e9,
                         static_cast<double>(last->second - last->first) / 1e9);
}

void GrayWorkload::NoteLoss(std::string what, int64_t at_ns, bool revoked_by_etcd) {
  const bool lease = absl::StartsWith(what, "lease");
  bool first_of_batch;
  std::string logged = what;
  {
    absl::MutexLock lock(&mu_);
    if (lease) {
      ++leases_lost_;
      ++to_replace_;
    } else {
      ++registrations_lost_;
    }
    first_of_batch = losses_.empty() || at_ns - losses_.back().at_ns > kLossBatchGapNs;
    losses_.push_back(Loss{absl::StrCat(Now(), " ", what), at_ns, lease, revoked_by_etcd});
  }
  // The first loss of a batch at once, with its time in the harness's log;
  // Finish() tells how many followed and how each batch was judged.
  if (first_of_batch) Log(absl::StrCat("  loss: ", logged));
}

void GrayWorkload::Mark() {
  first_renewal_ns_.store(0);
  mark_ns_.store(SteadyNs());
}

std::optional<absl::Duration> GrayWorkload::FirstRenewalAfterMark() const {
  const int64_t first = first_renewal_ns_.load();
  const int64_t mark = mark_ns_.load();
  if (first == 0 || mark == 0) return std::nullopt;
  return absl::Nanoseconds(first - mark);
}

void GrayWorkload::WriterLoop() {
  for (int64_t n = 0; !stop_.load(); ++n) {
    const std::string key = absl::StrFormat("%s/%09d", options_.prefix, n);
    absl::StatusOr<PutResult> put = writer_client_->Put(key, "v");
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (put.ok()) {
        acked_.push_back(Write{key, put->header.revision, now});
      } else {
        ++failed_writes_;
      }
    }
    absl::SleepFor(options_.write_interval);
  }
}

void GrayWorkload::ProbeLoop() {
  const absl::Duration bound =
      options_.client.request_timeout + absl::Milliseconds(500);  // scheduling slack
  while (!stop_.load()) {
    const absl::Time start = absl::Now();
    absl::StatusOr<GetResult> get = client_->Get(options_.prefix + "-start");
    const absl::Duration took = absl::Now() - start;
    {
      absl::MutexLock lock(&mu_);
      ++probes_;
      if (!get.ok()) ++probes_failed_;
      probe_max_ = std::max(probe_max_, took);
    }
    if (took > bound) {
      Violation(absl::StrCat("a Get took ", absl::FormatDuration(took), ", past its deadline (",
                             absl::FormatDuration(options_.client.request_timeout),
                             "): ", get.status().ToString()));
    }
    absl::SleepFor(options_.probe_interval);
  }
}

void GrayWorkload::SampleLoop() {
  const size_t expected = static_cast<size_t>(options_.registrations);
  std::string prefix;
  if (registrar_ != nullptr) prefix = registrar_->prefix() + "/" + options_.service + "/";
  // After an outage longer than a TTL, leases expire and registrations come
  // back with new ones: give them that long.
  const int64_t grace =
      absl::ToInt64Nanoseconds(absl::Seconds(2 * options_.lease_ttl_seconds) + absl::Seconds(8));
  const int64_t base_threads = ProcStatus("Threads");
  const int64_t base_rss_kb = ProcStatus("VmRSS");
  int64_t max_threads = base_threads;
  int64_t max_rss_kb = base_rss_kb;
  while (!stop_.load()) {
    const int64_t threads = ProcStatus("Threads");
    const int64_t rss_kb = ProcStatus("VmRSS");
    if (threads > max_threads && threads > base_threads + options_.max_extra_threads) {
      Violation(absl::StrCat(threads, " threads (", base_threads, " after set-up)"));
    }
    if (rss_kb > max_rss_kb &&
        rss_kb > base_rss_kb + static_cast<int64_t>(options_.max_rss_growth_mb * 1024)) {
      Violation(
          absl::StrCat("RSS ", rss_kb / 1024, " MB (", base_rss_kb / 1024, " MB after set-up)"));
    }
    max_threads = std::max(max_threads, threads);
    max_rss_kb = std::max(max_rss_kb, rss_kb);
    int64_t replace;
    {
      absl::MutexLock lock(&mu_);
      replace = std::min<int64_t>(to_replace_, 200);
    }
    for (int64_t i = 0; i < replace && !stop_.load(); ++i) {
      absl::StatusOr<LeaseGrantResult> grant = client_->Grant(options_.lease_ttl_seconds);
      if (!grant.ok()) break;  // etcd unreachable: next round
      absl::StatusOr<KeptLease> kept =
          client_->Keep(grant->id, lease_log_.get(),
                        {.ttl = absl::Seconds(grant->ttl), .granted_at = grant->granted_at});
      if (!kept.ok()) break;
      kept_.push_back(*std::move(kept));
      absl::MutexLock lock(&mu_);
      --to_replace_;
      ++leases_replaced_;
    }
    bool checked;
    {
      absl::MutexLock lock(&mu_);
      checked =
          majority_.load() && (outages_.empty() || SteadyNs() > outages_.back().second + grace);
    }
    if (view_ != nullptr && expected > 0) {
      std::shared_ptr<const resolver::EndpointSet> set = view_->snapshot();
      const size_t seen = set == nullptr ? 0 : set->endpoints.size();
      if (seen == 0 || (checked && seen != expected)) {
        Shortfall(absl::StrCat("the resolver view holds ", seen, " endpoints, not ", expected,
                               " (revision ", set == nullptr ? 0 : set->revision, ")"));
      }
    }
    if (registrar_ != nullptr && checked) {
      absl::StatusOr<GetResult> keys =
          writer_client_->Range(KeyRange::Prefix(prefix), {.count_only = true});
      // A failed read (an election under way) says nothing about the keys.
      if (keys.ok() && majority_.load() && keys->count != static_cast<int64_t>(expected)) {
        Shortfall(absl::StrCat("the registry holds ", keys->count, " of ", expected,
                               " registrations at revision ", keys->header.revision));
      }
    }
    absl::SleepFor(options_.sample_interval);
  }
}

GrayReport GrayWorkload::Finish(absl::Duration settle) {
  stop_.store(true);
  if (writer_.joinable()) writer_.join();
  if (prober_.joinable()) prober_.join();
  if (sampler_.joinable()) sampler_.join();
  GrayReport report;
  // Everything committed, as etcd has it.
  std::map<int64_t, std::string> committed;
  const absl::Time give_up = absl::Now() + settle;
  while (true) {
    absl::StatusOr<GetResult> all = writer_client_->Range(KeyRange::Prefix(options_.prefix + "/"));
    if (all.ok()) {
      for (const KeyValue& kv : all->kvs) committed[kv.mod_revision] = kv.key;
      break;
    }
    if (absl::Now() > give_up) {
      Violation(absl::StrCat("cannot read the writes back: ", all.status().ToString()));
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  const int64_t last = committed.empty() ? 0 : committed.rbegin()->first;
  for (const auto& log : event_logs_) {
    while (log->last_revision() < last && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  // The monitor ran until now: a loss while the workload settled is judged
  // against what the cluster did meanwhile.
  monitor_stop_.store(true);
  if (monitor_.joinable()) monitor_.join();
  std::map<std::string, absl::Time> acked_at;
  {
    absl::MutexLock lock(&mu_);
    report.writes_acked = static_cast<int64_t>(acked_.size());
    report.writes_failed = failed_writes_;
    for (const Write& write : acked_) {
      acked_at[write.key] = write.acked;
      if (!committed.count(write.revision)) {
        Violation(absl::StrCat("acknowledged write ", write.key, " at revision ", write.revision,
                               " is not in etcd"));
      }
    }
  }
  report.writes_committed = static_cast<int64_t>(committed.size());
  std::vector<absl::Duration> latencies;
  for (size_t w = 0; w < event_logs_.size(); ++w) {
    const std::vector<EventLog::Seen> seen = event_logs_[w]->seen();
    report.events_delivered.push_back(static_cast<int64_t>(seen.size()));
    auto expected = committed.begin();
    int reported = 0;
    for (const EventLog::Seen& event : seen) {
      if (expected == committed.end() || event.revision != expected->first) {
        if (reported++ < 3) {
          Violation(absl::StrCat(
              "watch ", w, " delivered ", event.key, " at revision ", event.revision,
              expected == committed.end()
                  ? std::string(" after every committed write")
                  : absl::StrCat(" where revision ", expected->first, " (", expected->second,
                                 ") was next: lost, repeated or out of order")));
        }
        // Resynchronise on the delivered revision to go on checking.
        expected = committed.upper_bound(event.revision);
        continue;
      }
      if (auto it = acked_at.find(event.key); it != acked_at.end()) {
        latencies.push_back(std::max(absl::ZeroDuration(), event.at - it->second));
      }
      ++expected;
    }
    if (expected != committed.end()) {
      Violation(absl::StrCat("watch ", w, " is missing ", std::distance(expected, committed.end()),
                             " committed writes from revision ", expected->first, " on"));
    }
  }
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    report.latency_p50 = latencies[latencies.size() / 2];
    report.latency_p99 = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
    report.latency_max = latencies.back();
  }
  report.renewals = renewals_.load();
  report.leases_kept = static_cast<int64_t>(client_->stats().keepalive.kept_leases);
  report.threads = ProcStatus("Threads");
  report.rss_mb = static_cast<double>(ProcStatus("VmRSS")) / 1024.0;
  std::vector<std::string> unexcused;
  std::vector<std::string> unexcused_shortfalls;
  // One line per batch of losses (no gap over kLossBatchGapNs): how many of
  // each verdict, so that an excused figure can be read against its outage.
  std::vector<std::string> batches;
  {
    absl::MutexLock lock(&mu_);
    report.leases_lost = leases_lost_;
    report.leases_replaced = leases_replaced_;
    report.registrations_lost = registrations_lost_;
    struct Batch {
      const Loss* first = nullptr;
      const Loss* last = nullptr;
      int64_t leases = 0, registrations = 0, outage = 0, stale_leader = 0, unexcused = 0,
              revoked = 0;
    } batch;
    std::vector<Batch> closed;
    auto flush = [&] {
      if (batch.first != nullptr) closed.push_back(batch);
      batch = Batch{};
    };
    for (const Loss& loss : losses_) {
      if (batch.last != nullptr && loss.at_ns - batch.last->at_ns > kLossBatchGapNs) flush();
      if (batch.first == nullptr) batch.first = &loss;
      batch.last = &loss;
      ++(loss.lease ? batch.leases : batch.registrations);
      batch.revoked += loss.revoked_by_etcd ? 1 : 0;
      if (Excused(loss.at_ns)) {
        ++batch.outage;
        continue;
      }
      if (RevokedByStaleLeader(loss)) {
        ++batch.stale_leader;
        ++(loss.lease ? report.leases_revoked_by_stale_leader
                      : report.registrations_revoked_by_stale_leader);
        continue;
      }
      ++batch.unexcused;
      unexcused.push_back(loss.what);
    }
    flush();
    // Formatted here rather than in flush: the lock analysis does not see
    // into lambdas.
    for (const Batch& done : closed) {
      batches.push_back(absl::StrFormat(
          "losses %.1fs..%.1fs after the workload started: %d leases, %d registrations (%d "
          "revoked by etcd); excused by an outage %d, revoked by a stale leader %d, not excused "
          "%d; %s",
          static_cast<double>(done.first->at_ns - start_ns_) / 1e9,
          static_cast<double>(done.last->at_ns - start_ns_) / 1e9, done.leases, done.registrations,
          done.revoked, done.outage, done.stale_leader, done.unexcused,
          OutageBefore(done.last->at_ns)));
    }
    // A registry or view short of registrations in a stale leader's window
    // is etcd's doing when etcd revoked a registration then (the loss may be
    // heard a little after the keys are gone) and the registrations were
    // back within kReRegisterBound of that loss; anything else is ours.
    for (const MissingSample& shortfall : deferred_shortfalls_) {
      bool explained = false;
      for (const Loss& loss : losses_) {
        if (loss.lease || !RevokedByStaleLeader(loss)) continue;
        if (shortfall.at_ns >= loss.at_ns - kReRegisterBoundNs &&
            shortfall.at_ns <= loss.at_ns + kReRegisterBoundNs) {
          explained = true;
          break;
        }
      }
      if (explained) {
        ++report.shortfalls_after_stale_revocation;
      } else {
        unexcused_shortfalls.push_back(shortfall.what);
      }
    }
  }
  for (std::string& text : unexcused_shortfalls) {
    absl::MutexLock lock(&mu_);
    violations_.push_back(std::move(text));
  }
  for (const std::string& line : batches) Log(line);
  std::vector<std::string> timeline;
  {
    absl::MutexLock lock(&mu_);
    if (!unexcused.empty() || !violations_.empty()) timeline = timeline_;
  }
  // What the client's streams did, to tell a cluster that could not renew
  // from a client that did not ask.
  if (!timeline.empty()) Log("timeline (since the workload started):");
  for (const std::string& line : timeline) Log(absl::StrCat("  ", line));
  for (size_t i = 0; i < unexcused.size() && i < 5; ++i) {
    Violation(absl::StrCat(unexcused[i], " (a majority was reachable)"));
  }
  if (unexcused.size() > 5) {
    Violation(absl::StrCat("... and ", unexcused.size() - 5, " more losses"));
  }
  absl::MutexLock lock(&mu_);
  report.probes = probes_;
  report.probes_failed = probes_failed_;
  report.probe_max = probe_max_;
  report.violations = violations_;
  return report;
}

}  // namespace etcdgrpc::testing
