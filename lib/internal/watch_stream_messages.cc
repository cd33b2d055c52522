// What the watch stream does with each answer from etcd: creates confirmed
// or refused, events (fragments joined), per-watch and stream-wide progress,
// watches ended by compaction or cancellation.
#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/internal/grpc_status.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/watch_stream.h"

namespace etcdgrpc::internal {
namespace {

// Fills `parsed` (a new element of the batch, parsed in place) from `event`,
// moving its keys and values out.
void ParseEventInto(mvccpb::Event& event, Event& parsed) {
  parsed.type = event.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
  ParseKeyValueInto(*event.mutable_kv(), parsed.kv);
  if (event.has_prev_kv()) ParseKeyValueInto(*event.mutable_prev_kv(), parsed.prev_kv.emplace());
}

// The status for a watch etcd cancelled, from its cancel reason.
absl::Status CancelStatus(const std::string& reason) {
  if (absl::StrContains(reason, "permission denied")) return absl::PermissionDeniedError(reason);
  if (absl::StrContains(reason, "compacted")) return absl::OutOfRangeError(reason);
  if (absl::StrContains(reason, "duplicate watch ID")) return absl::AlreadyExistsError(reason);
  if (reason.empty()) return absl::CancelledError("etcd cancelled the watch without a reason");
  return absl::CancelledError(reason);
}

}  // namespace

void WatchStream::OnStreamProgress(int64_t revision, Drains& out) {
  // etcd < 3.4.25 / < 3.5.8 answers at once with the store's revision, ahead
  // of events still queued for the watches (measured on 3.4.23: resuming from
  // it after a break lost 60,000 events). There it moves no resume revision
  // and reaches only watches that have delivered everything up to it.
  const bool trusted =
      connection_.progress_safety(stream_.endpoint_index()) == Connection::ProgressSafety::kSafe;
  const bool wanted = progress_wanted_;
  progress_wanted_ = false;
  for (auto& [watch_id, watch] : watches_) {
    if (watch->phase != WatchState::Phase::kActive) continue;
    if (trusted) {
      SetNextRevision(*watch, revision + 1);
      if (wanted) QueueProgress(watch, revision, out);
    } else if (wanted && watch->next_revision > revision) {
      QueueProgress(watch, revision, out);
    }
  }
}

void WatchStream::OnMessage(etcdserverpb::WatchResponse& response) {
  Drains out;
  StreamAction action = StreamAction::kNone;
  if (ClientMetrics* metrics = connection_.metrics(); metrics != nullptr) {
    metrics->watch_responses.Increment();
    if (response.events_size() > 0) {
      uint64_t bytes = 0;
      for (const mvccpb::Event& event : response.events()) {
        bytes += event.kv().key().size() + event.kv().value().size();
      }
      metrics->watch_events.Increment(response.events_size());
      metrics->watch_event_bytes.Increment(bytes);
    }
  }
  {
    MutexLock lock(&mu_);
    if (response.created()) {
      action = OnCreated(response, out);
    } else if (response.watch_id() == -1) {
      OnStreamProgress(response.header().revision(), out);
    } else if (auto it = watches_.find(response.watch_id()); it != watches_.end()) {
      std::shared_ptr<WatchState> watch = it->second;
      if (response.compact_revision() > 0 || response.canceled()) {
        OnEndedByEtcd(watch, response, out);
      } else {
        OnEvents(watch, response, out);
      }
    }
  }
  if (action == StreamAction::kRefreshToken) {
    stream_.RestartWithNewToken();
  } else if (action == StreamAction::kRestart) {
    stream_.Restart();
  }
  Drain(out);
}

WatchStream::StreamAction WatchStream::OnCreated(const etcdserverpb::WatchResponse& response,
                                                 Drains& out) {
  int64_t id = response.watch_id();
  if (id == -1) {
    // An error answer without our id: it answers the oldest create.
    if (creating_.empty()) return StreamAction::kNone;
    id = creating_.front();
    creating_.pop_front();
  } else {
    auto pos = std::find(creating_.begin(), creating_.end(), id);
    if (pos != creating_.end()) creating_.erase(pos);
  }
  auto it = watches_.find(id);
  if (it == watches_.end()) return StreamAction::kNone;  // cancelled meanwhile
  std::shared_ptr<WatchState> watch = it->second;
  const std::string& reason = response.cancel_reason();
  if (response.canceled() && !watch->token_retried && connection_.has_credentials() &&
      (Connection::IsTokenRefusedReason(reason) ||
       absl::StrContains(reason, "permission denied"))) {
    // etcd checks a watch's permission with the token the stream was opened
    // with, which may have expired since: reopen the stream with a new token
    // (every watch is re-created on it) and try once more.
    watch->token_retried = true;
    watch->phase = WatchState::Phase::kUnsent;
    return StreamAction::kRefreshToken;
  }
  if (response.canceled()) {
    End(watch,
        WatchEnd{.status = WithKeyRange(CancelStatus(reason), watch->request.range.key(),
                                        watch->request.range.range_end()),
                 .compact_revision = response.compact_revision(),
                 .next_revision = watch->next_revision},
        out);
    // etcd 3.4 stops reading the stream after refusing a watch for its
    // permissions (later creates would go unanswered): reopen it.
    return absl::StrContains(reason, "permission denied") ? StreamAction::kRestart
                                                          : StreamAction::kNone;
  }
  watch->token_retried = false;
  watch->phase = WatchState::Phase::kActive;
  // Watching from now: history before this revision is not wanted.
  if (watch->next_revision == 0) SetNextRevision(*watch, response.header().revision() + 1);
  return StreamAction::kNone;
}

void WatchStream::OnEndedByEtcd(const std::shared_ptr<WatchState>& watch,
                                const etcdserverpb::WatchResponse& response, Drains& out) {
  if (response.compact_revision() > 0) {
    End(watch,
        WatchEnd{.status = absl::OutOfRangeError(absl::StrCat(
                     "etcdserver: mvcc: required revision has been compacted (watch from "
                     "revision ",
                     watch->next_revision, ", compacted up to ", response.compact_revision(), ")")),
                 .compact_revision = response.compact_revision(),
                 .next_revision = watch->next_revision},
        out);
    return;
  }
  End(watch,
      WatchEnd{.status = CancelStatus(response.cancel_reason()),
               .compact_revision = 0,
               .next_revision = watch->next_revision},
      out);
}

void WatchStream::OnEvents(const std::shared_ptr<WatchState>& watch,
                           etcdserverpb::WatchResponse& response, Drains& out) {
  const int64_t revision = response.header().revision();
  // Sized once: growing it event by event moved every event parsed so far
  // several times per response (measured: a quarter of our cost per event in
  // bench watch_batched, callgrind).
  watch->fragments.reserve(watch->fragments.size() + static_cast<size_t>(response.events_size()));
  for (mvccpb::Event& event : *response.mutable_events()) {
    ParseEventInto(event, watch->fragments.emplace_back());
  }
  if (response.fragment()) return;  // the rest of this revision's events follow
  std::vector<Event> events;
  events.swap(watch->fragments);
  if (events.empty()) {
    // A per-watch progress notification (progress_notify): etcd sends it
    // only for a watch that has caught up, in order with its events.
    SetNextRevision(*watch, revision + 1);
    QueueProgress(watch, revision, out);
    return;
  }
  // Not the header revision: during catch-up it runs ahead of the events
  // delivered so far.
  SetNextRevision(*watch, events.back().kv.mod_revision + 1);
  QueueEvents(watch, WatchEvents{revision, std::move(events)}, out);
}

}  // namespace etcdgrpc::internal
