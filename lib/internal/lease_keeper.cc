#include "lib/internal/lease_keeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/lease_id.h"
#include "common/listener_call.h"
#include "lib/internal/kv_codec.h"

namespace etcdgrpc::internal {
namespace {

constexpr absl::string_view kKeepAliveMethod = "/etcdserverpb.Lease/LeaseKeepAlive";

}  // namespace

etcdserverpb::LeaseKeepAliveRequest LeaseKeeper::RequestFor(int64_t id) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  return request;
}

absl::Time LeaseKeeper::TickCeil(absl::Time t, absl::Duration tick) {
  if (t == absl::InfiniteFuture() || tick <= absl::ZeroDuration()) return t;
  const int64_t ns = absl::ToUnixNanos(t);
  const int64_t step = absl::ToInt64Nanoseconds(tick);
  const int64_t rounded = (ns + step - 1) / step * step;
  return absl::FromUnixNanos(rounded);
}

LeaseKeeper::LeaseKeeper(Connection& connection, Scheduler& timer, ListenerRunner& runner,
                         const ClientOptions& options)
    : timer_(timer),
      runner_(runner),
      metrics_(connection.metrics()),
      options_(options.keepalive),
      request_timeout_(options.request_timeout),
      renewal_timeout_(std::min(options.liveness.renewal_timeout, options.request_timeout)),
      stream_(
          connection, timer, std::string(kKeepAliveMethod),
          Stream::Options{.backoff = options.stream_backoff,
                          .handoff_after = options.slow_listener_handoff,
                          .write_timeout = options.liveness.write_timeout},
          [](EndpointStubs& stubs, grpc::ClientContext* context) {
            return stubs.lease->LeaseKeepAlive(context);
          },
          this) {}

LeaseKeeper::~LeaseKeeper() { Shutdown(); }

void LeaseKeeper::EnsureStarted() {
  if (started_fast_.load(std::memory_order_acquire)) return;
  {
    MutexLock lock(&mu_);
    if (started_ || shutdown_) return;
    started_ = true;
    // Before another thread can see started_ and ask for a wake-up: the
    // timer drops RequestWake() for a slot it does not have. Its lock is a leaf.
    timer_.Add(this);
  }
  stream_.EnsureStarted();
  started_fast_.store(true, std::memory_order_release);
  MutexLock lock(&mu_);
  WakeTimerBy(NextWake());
}

void LeaseKeeper::WakeTimerBy(absl::Time when) {
  if (!started_ || shutdown_ || when >= requested_wake_) return;
  requested_wake_ = when;
  timer_.RequestWake(this, when);
}

void LeaseKeeper::Complete(OnceCall& call, absl::StatusOr<LeaseKeepAliveResult> result,
                           Deliveries& out) {
  if (!call.done) return;
  out.once.emplace_back(std::move(call.done), std::move(result));
  call.done = nullptr;
  while (!once_deadlines_.empty() && !once_deadlines_.front()->done) once_deadlines_.pop_front();
}

void LeaseKeeper::QueueRenewed(const std::shared_ptr<LeaseHolder>& holder, int64_t ttl,
                               Deliveries& out) {
  if (holder->listener == nullptr) return;
  if (holder->executor.Post([holder, ttl] {
        (void)CallListener("lease listener",
                           [&] { holder->listener->OnRenewed(holder->lease_id, ttl); });
      })) {
    out.drain.push_back(holder);
  }
}

void LeaseKeeper::QueueLost(const std::shared_ptr<LeaseHolder>& holder, LeaseLoss loss,
                            Deliveries& out) {
  ++leases_lost_;
  if (metrics_ != nullptr) metrics_->leases_lost[static_cast<size_t>(loss.reason)].Increment();
  if (holder->executor.Post([holder, loss = std::move(loss)] {
        if (holder->listener != nullptr) {
          (void)CallListener("lease listener",
                             [&] { holder->listener->OnLost(holder->lease_id, loss); });
        }
        holder->executor.Stop();  // nothing after the loss
      })) {
    out.drain.push_back(holder);
  }
}

void LeaseKeeper::Shutdown() {
  stream_.Shutdown();
  Deliveries out;
  {
    MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& [id, entry] : entries_) {
      for (auto& holder : entry.holders) {
        QueueLost(holder,
                  LeaseLoss{LeaseLossReason::kClientClosed,
                            absl::CancelledError(absl::StrCat("the client was closed; lease ",
                                                              FormatLeaseId(id),
                                                              " is no longer renewed"))},
                  out);
      }
      for (auto& pending : entry.in_flight) {
        if (pending.once)
          Complete(*pending.once, absl::CancelledError("the client was closed"), out);
      }
      for (auto& once : entry.unsent_once) {
        Complete(*once, absl::CancelledError("the client was closed"), out);
      }
    }
    for (auto& once : once_deadlines_) {
      Complete(*once, absl::CancelledError("the client was closed"), out);
    }
    entries_.clear();
    renewals_.clear();
    deadlines_.clear();
    ttl_counts_.clear();
    once_deadlines_.clear();
  }
  Deliver(out);
}

absl::Duration LeaseKeeper::Interval(const Entry& entry) const {
  // Before the first answer the TTL is unknown: ask again only after a whole
  // request time-out, so there is still at most one request in flight.
  if (entry.ttl_seconds <= 0) return request_timeout_;
  return std::max(absl::Seconds(entry.ttl_seconds) * options_.renew_fraction, options_.tick);
}

absl::Duration LeaseKeeper::StallTimeout() const {
  absl::Duration timeout = renewal_timeout_;
  if (!ttl_counts_.empty()) {
    // A lease renewed every TTL/3 must not wait longer than that for an
    // answer, or it runs out before the next endpoint is tried.
    timeout = std::min(timeout,
                       std::max(absl::Seconds(ttl_counts_.begin()->first) * options_.renew_fraction,
                                absl::Milliseconds(100)));
  }
  return timeout;
}

void LeaseKeeper::SetTtl(Entry& entry, int64_t ttl_seconds) {
  if (entry.ttl_seconds == ttl_seconds) return;
  if (entry.ttl_seconds > 0) {
    auto it = ttl_counts_.find(entry.ttl_seconds);
    if (it != ttl_counts_.end() && --it->second == 0) ttl_counts_.erase(it);
  }
  entry.ttl_seconds = ttl_seconds;
  if (ttl_seconds > 0) ++ttl_counts_[ttl_seconds];
}

void LeaseKeeper::Schedule(int64_t id, Entry& entry, absl::Time next_send) {
  renewals_.erase({entry.next_send, id});
  entry.next_send = next_send;
  if (!entry.holders.empty() && next_send != absl::InfiniteFuture()) {
    renewals_.insert({next_send, id});
    const absl::Time tick = TickCeil(next_send, options_.tick);
    if (stream_open_ && tick < writer_planned_ && tick < writer_needed_) writer_needed_ = tick;
  }
}

void LeaseKeeper::SetDeadline(int64_t id, Entry& entry, absl::Time deadline) {
  deadlines_.erase({entry.deadline, id});
  entry.deadline = deadline;
  if (!entry.holders.empty() && deadline != absl::InfiniteFuture()) {
    deadlines_.insert({deadline, id});
    WakeTimerBy(deadline);
  }
}

void LeaseKeeper::Drop(int64_t id, Entry& entry, const LeaseLoss& loss, Deliveries& out) {
  Schedule(id, entry, absl::InfiniteFuture());
  SetDeadline(id, entry, absl::InfiniteFuture());
  SetTtl(entry, 0);
  for (auto& holder : entry.holders) QueueLost(holder, loss, out);
  entry.holders.clear();
}

void LeaseKeeper::EraseIfUnused(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (entry.holders.empty() && entry.in_flight.empty() && entry.unsent_once.empty()) {
    SetTtl(entry, 0);
    entries_.erase(it);
  }
}

void LeaseKeeper::NoteSent(Entry& entry, absl::Time now, std::shared_ptr<OnceCall> once) {
  entry.in_flight.push_back(Pending{now, std::move(once)});
  unanswered_.push_back(now);
  ++requests_sent_;
}

std::shared_ptr<LeaseHolder> LeaseKeeper::Keep(int64_t lease_id, LeaseListener* listener,
                                               const KeepOptions& options) {
  auto holder = std::make_shared<LeaseHolder>(listener, lease_id);
  {
    MutexLock lock(&mu_);
    if (shutdown_) return holder;
    Entry& entry = entries_[lease_id];
    entry.holders.push_back(holder);
    if (entry.holders.size() == 1) {
      const absl::Time now = MonoNow();
      if (options.ttl > absl::ZeroDuration()) {
        // The lease's time runs from its grant, not from now: the first
        // deadline is granted_at + TTL (on the monotonic clock).
        absl::Duration elapsed = absl::ZeroDuration();
        if (options.granted_at != absl::InfinitePast()) {
          elapsed = std::clamp(absl::Now() - options.granted_at, absl::ZeroDuration(), options.ttl);
        }
        SetTtl(entry, std::max<int64_t>(1, absl::ToInt64Seconds(options.ttl)));
        SetDeadline(lease_id, entry, now - elapsed + options.ttl);
      } else if (entry.deadline == absl::InfiniteFuture()) {
        // The TTL is unknown: the lease could run out at any time, so an
        // answer must come within a request time-out (it brings the TTL).
        SetDeadline(lease_id, entry, now + request_timeout_);
      }
      // The first renewal goes out at once: it confirms the lease exists and
      // learns its TTL.
      Schedule(lease_id, entry, now);
    }
  }
  EnsureStarted();
  WakeWriterIfNeeded();
  return holder;
}

void LeaseKeeper::Unkeep(const std::shared_ptr<LeaseHolder>& holder) {
  holder->executor.Stop();
  MutexLock lock(&mu_);
  auto it = entries_.find(holder->lease_id);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  auto found = std::find(entry.holders.begin(), entry.holders.end(), holder);
  if (found == entry.holders.end()) return;
  entry.holders.erase(found);
  if (entry.holders.empty()) {
    Schedule(holder->lease_id, entry, absl::InfiniteFuture());
    SetDeadline(holder->lease_id, entry, absl::InfiniteFuture());
    SetTtl(entry, 0);
    EraseIfUnused(holder->lease_id);
  }
}

void LeaseKeeper::KeepAliveOnce(int64_t lease_id, Callback<LeaseKeepAliveResult> done) {
  auto once =
      std::make_shared<OnceCall>(OnceCall{lease_id, MonoNow() + request_timeout_, std::move(done)});
  bool closed;
  {
    MutexLock lock(&mu_);
    closed = shutdown_;
    if (!closed) {
      once_deadlines_.push_back(once);
      WakeTimerBy(once->deadline);
    }
  }
  if (closed) {
    std::move(once->done)(absl::CancelledError("the client was closed"));
    return;
  }
  if (stream_.IsReaderThread()) {
    // Called from a callback we are delivering: batch it (FlushDeferred).
    MutexLock lock(&mu_);
    entries_[lease_id].unsent_once.push_back(std::move(once));
    deferred_ids_.push_back(lease_id);
    return;
  }
  EnsureStarted();
  stream_.WithWriter([&](Stream::Writer* writer) {
    MutexLock lock(&mu_);
    if (shutdown_ || !once->done) return;  // closed or timed out meanwhile
    Entry& entry = entries_[lease_id];
    if (writer == nullptr) {
      entry.unsent_once.push_back(std::move(once));  // OnOpen() writes it
      return;
    }
    NoteSent(entry, MonoNow(), std::move(once));
    writer->Write(RequestFor(lease_id));
    WakeTimerBy(NextWake());  // the stall check
  });
}

void LeaseKeeper::Revoked(int64_t lease_id) {
  Deliveries out;
  {
    MutexLock lock(&mu_);
    auto it = entries_.find(lease_id);
    if (it == entries_.end()) return;
    Drop(lease_id, it->second,
         LeaseLoss{LeaseLossReason::kRevoked,
                   absl::CancelledError(absl::StrCat("lease ", FormatLeaseId(lease_id),
                                                     " was revoked by this client"))},
         out);
    EraseIfUnused(lease_id);
  }
  Deliver(out);
}

absl::Time LeaseKeeper::NextWake() const {
  absl::Time wake = absl::InfiniteFuture();
  if (!deadlines_.empty()) wake = std::min(wake, deadlines_.begin()->first);
  if (!once_deadlines_.empty()) wake = std::min(wake, once_deadlines_.front()->deadline);
  if (!unanswered_.empty()) {
    wake = std::min(wake, std::max(unanswered_.front(), last_response_) + StallTimeout());
  }
  return wake;
}

absl::Time LeaseKeeper::OnTimer(absl::Time now) {
  Deliveries out;
  bool stalled = false;
  absl::Duration stall_timeout;
  uint64_t generation = 0;
  {
    MutexLock lock(&mu_);
    if (shutdown_) return absl::InfiniteFuture();
    // Leases whose deadline passed without an answered renewal.
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const int64_t id = deadlines_.begin()->second;
      Entry& entry = entries_[id];
      const std::string ttl = entry.ttl_seconds > 0 ? absl::StrCat("TTL ", entry.ttl_seconds, "s")
                                                    : std::string("TTL unknown");
      Drop(id, entry,
           LeaseLoss{LeaseLossReason::kDeadlinePassed,
                     absl::DeadlineExceededError(absl::StrCat(
                         "lease ", FormatLeaseId(id), " was not renewed before its deadline (", ttl,
                         "); it must be assumed expired"))},
           out);
      EraseIfUnused(id);
    }
    // KeepAliveOnce calls that got no answer in time.
    while (!once_deadlines_.empty() && once_deadlines_.front()->deadline <= now) {
      std::shared_ptr<OnceCall> once_ptr = once_deadlines_.front();
      OnceCall& once = *once_ptr;
      Complete(once,
               absl::DeadlineExceededError(absl::StrCat("no keep-alive answer for lease ",
                                                        FormatLeaseId(once.lease_id), " within ",
                                                        absl::FormatDuration(request_timeout_))),
               out);
      if (!once_deadlines_.empty() && once_deadlines_.front() == once_ptr) {
        once_deadlines_.pop_front();
      }
    }
    // Renewals outstanding and no answer for a while: the member is stuck
    // even if TCP says otherwise (frozen, black-holed, or a follower holding
    // renewals for a frozen leader). Go elsewhere and renew everything there.
    stall_timeout = StallTimeout();
    stalled = stream_open_ && !unanswered_.empty() &&
              std::max(unanswered_.front(), last_response_) + stall_timeout <= now;
    if (stalled) unanswered_.clear();
    generation = stream_generation_;
  }
  if (stalled) {
    stream_.Break(absl::StrCat("no keep-alive answer within ", absl::FormatDuration(stall_timeout)),
                  generation);
  }
  if (!out.empty()) {
    // The timer never runs user code: the runner does.
    runner_.Post([out = std::move(out)]() mutable { Deliver(out); });
  }
  MutexLock lock(&mu_);
  requested_wake_ = NextWake();
  return requested_wake_;
}

void LeaseKeeper::Deliver(Deliveries& deliveries) {
  for (auto& [done, result] : deliveries.once) std::move(done)(std::move(result));
  for (auto& holder : deliveries.drain) holder->executor.Drain();
}

KeepAliveStreamStats LeaseKeeper::stats() const {
  KeepAliveStreamStats stats;
  stream_.FillStats(&stats);
  MutexLock lock(&mu_);
  stats.requests_sent = requests_sent_;
  stats.responses = responses_;
  stats.leases_lost = leases_lost_;
  for (const auto& [id, entry] : entries_) {
    if (!entry.holders.empty()) ++stats.kept_leases;
  }
  return stats;
}

}  // namespace etcdgrpc::internal
