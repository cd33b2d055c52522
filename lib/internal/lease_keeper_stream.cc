// The keep-alive stream's side of the LeaseKeeper: what opening, answers,
// breaks and the writer's ticks do to the kept leases (renewal bursts in
// deadline order, TTL 0 as a loss, deferred renewals).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/lease_id.h"
#include "common/listener_call.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/lease_keeper.h"

namespace etcdgrpc::internal {
namespace {

absl::Status NotFound(int64_t id) {
  return absl::NotFoundError(absl::StrCat(
      "etcdserver: requested lease not found (lease ", FormatLeaseId(id),
      ": etcd answered the keep-alive with TTL 0; it expired, was revoked or never existed)"));
}

}  // namespace

void LeaseKeeper::OnOpen(Stream::Writer& writer) {
  std::vector<etcdserverpb::LeaseKeepAliveRequest> burst;
  {
    MutexLock lock(&mu_);
    stream_open_ = true;
    stream_generation_ = stream_.opens();
    const absl::Time now = MonoNow();
    last_response_ = now;
    // Every kept lease is renewed at once on a new stream (after a failover
    // too), unless its deadline already passed: the timer reports that loss
    // instead of a late renewal resurrecting it. Earliest deadline first:
    // etcd answers a keep-alive stream one request at a time, and on a
    // follower each renewal is forwarded to the leader (2,000 take about a
    // second there), so in hash order the leases nearest their deadline
    // could be answered after it. (Every kept lease has a deadline, so it is
    // in deadlines_: Keep() sets one and only Drop() and Unkeep() clear it.)
    burst.reserve(deadlines_.size());
    for (const auto& [deadline, id] : deadlines_) {
      if (deadline <= now) continue;
      Entry& entry = entries_[id];
      burst.push_back(RequestFor(id));
      NoteSent(entry, now, nullptr);
      Schedule(id, entry, now + Interval(entry));
    }
    for (auto& [id, entry] : entries_) {
      for (auto& once : entry.unsent_once) {
        if (!once->done) continue;  // timed out while waiting
        burst.push_back(RequestFor(id));
        NoteSent(entry, now, std::move(once));
      }
      entry.unsent_once.clear();
    }
    deferred_ids_.clear();
    WakeTimerBy(NextWake());
  }
  writer.WriteBurst(burst);
}

void LeaseKeeper::FlushDeferred() {
  {
    MutexLock lock(&mu_);
    if (deferred_ids_.empty() || deferred_ids_.size() < unanswered_.size()) return;
  }
  stream_.WriteFromReader([&](Stream::Writer* writer) {
    MutexLock lock(&mu_);
    if (writer == nullptr) return;  // OnOpen() writes them
    std::vector<etcdserverpb::LeaseKeepAliveRequest> burst;
    burst.reserve(deferred_ids_.size());
    const absl::Time now = MonoNow();
    for (int64_t id : deferred_ids_) {
      auto it = entries_.find(id);
      if (it == entries_.end() || it->second.unsent_once.empty()) continue;
      Entry& entry = it->second;
      std::shared_ptr<OnceCall> once = std::move(entry.unsent_once.front());
      entry.unsent_once.erase(entry.unsent_once.begin());
      if (!once->done) continue;  // timed out meanwhile
      burst.push_back(RequestFor(id));
      NoteSent(entry, now, std::move(once));
    }
    deferred_ids_.clear();
    writer->WriteBurst(burst);
    WakeTimerBy(NextWake());  // the stall check
  });
}

void LeaseKeeper::OnMessage(etcdserverpb::LeaseKeepAliveResponse& response) {
  Deliveries out;
  {
    MutexLock lock(&mu_);
    ++responses_;
    const absl::Time now = MonoNow();
    last_response_ = now;
    if (!unanswered_.empty()) unanswered_.pop_front();
    const int64_t id = response.id();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.in_flight.empty()) return;  // nobody waits for it
    Entry& entry = it->second;
    Pending pending = std::move(entry.in_flight.front());
    entry.in_flight.erase(entry.in_flight.begin());
    const int64_t ttl = response.ttl();
    if (metrics_ != nullptr) {
      metrics_->keepalive_rtt.Observe(absl::ToDoubleSeconds(now - pending.sent_at));
      if (ttl > 0) metrics_->renewals.Increment();
    }
    if (pending.once) {
      if (ttl <= 0) {
        Complete(*pending.once, NotFound(id), out);
      } else {
        Complete(*pending.once, LeaseKeepAliveResult{ParseHeader(response.header()), id, ttl}, out);
      }
    }
    if (!entry.holders.empty()) {
      if (ttl <= 0) {
        Drop(id, entry, LeaseLoss{LeaseLossReason::kNotFound, NotFound(id)}, out);
      } else if (pending.sent_at + absl::Seconds(ttl) <= now) {
        // Answered, but later than the TTL it renews: the deadline passed
        // while it was on its way and the timer reports the loss.
      } else {
        SetTtl(entry, ttl);
        // etcd started the new TTL when it handled the request, after we sent
        // it: counting from the send time keeps the local deadline early.
        SetDeadline(id, entry, pending.sent_at + absl::Seconds(ttl));
        Schedule(id, entry, now + Interval(entry));
        for (auto& holder : entry.holders) QueueRenewed(holder, ttl, out);
      }
    }
    EraseIfUnused(id);
  }
  Deliver(out);
  WakeWriterIfNeeded();
  FlushDeferred();
}

void LeaseKeeper::OnBroken(const absl::Status& /*status*/) {
  MutexLock lock(&mu_);
  stream_open_ = false;
  // Requests on the broken stream are lost: renewals are redone on reconnect,
  // KeepAliveOnce calls are sent again (until their deadline).
  for (auto& [id, entry] : entries_) {
    for (auto& pending : entry.in_flight) {
      if (pending.once && pending.once->done) entry.unsent_once.push_back(std::move(pending.once));
    }
    entry.in_flight.clear();
  }
  unanswered_.clear();
}

absl::Time LeaseKeeper::OnWriterTick(absl::Time now, Stream::Writer& writer) {
  MutexLock lock(&mu_);
  if (shutdown_ || !stream_open_) {
    writer_planned_ = absl::InfiniteFuture();
    return writer_planned_;  // OnOpen() renews everything on reconnect
  }
  std::vector<etcdserverpb::LeaseKeepAliveRequest> burst;
  while (!renewals_.empty() && renewals_.begin()->first <= now) {
    const int64_t id = renewals_.begin()->second;
    Entry& entry = entries_[id];
    burst.push_back(RequestFor(id));
    NoteSent(entry, now, nullptr);
    // One request per interval: the next one is due an interval from now
    // (or an interval after the answer, whichever comes later).
    Schedule(id, entry, now + Interval(entry));
  }
  if (!burst.empty()) {
    writer.WriteBurst(burst);
    WakeTimerBy(NextWake());  // the stall check watches what was just sent
  }
  writer_needed_ = absl::InfiniteFuture();
  writer_planned_ = renewals_.empty() ? absl::InfiniteFuture()
                                      : TickCeil(renewals_.begin()->first, options_.tick);
  return writer_planned_;
}

void LeaseKeeper::WakeWriterIfNeeded() {
  absl::Time when;
  {
    MutexLock lock(&mu_);
    when = writer_needed_;
    if (when == absl::InfiniteFuture()) return;
    // Asked once: the writer's tick resets it.
    writer_planned_ = std::min(writer_planned_, when);
    writer_needed_ = absl::InfiniteFuture();
  }
  stream_.WakeWriterBy(when);
}

}  // namespace etcdgrpc::internal
