#include "internal/watch_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/grpc_status.h"
#include "internal/kv_codec.h"
#include "internal/listener_call.h"

namespace etcdgrpc::internal {
namespace {

constexpr absl::string_view kWatchMethod = "/etcdserverpb.Watch/Watch";

Event ParseEvent(mvccpb::Event& event) {
  Event parsed;
  parsed.type = event.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
  parsed.kv = ParseKeyValue(*event.mutable_kv());
  if (event.has_prev_kv()) parsed.prev_kv = ParseKeyValue(*event.mutable_prev_kv());
  return parsed;
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

WatchStream::WatchStream(Connection& connection, Timer& timer, const ClientOptions& options)
    : connection_(connection),
      stream_(
          connection, timer, std::string(kWatchMethod),
          Stream::Options{.backoff = options.stream_backoff,
                          .handoff_after = options.slow_listener_handoff},
          [](EndpointStubs& stubs, grpc::ClientContext* context) {
            return stubs.watch->Watch(context);
          },
          this) {}

WatchStream::~WatchStream() { Shutdown(); }

void WatchStream::Shutdown() {
  stream_.Shutdown();
  std::vector<Delivery> out;
  {
    MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    while (!watches_.empty()) {
      std::shared_ptr<WatchState> watch = watches_.begin()->second;
      End(watch,
          WatchEnd{.status = absl::CancelledError("the client was closed"),
                   .compact_revision = 0,
                   .next_revision = watch->next_revision},
          out);
    }
  }
  Deliver(out);
}

etcdserverpb::WatchRequest WatchStream::CreateRequest(const WatchState& watch) const {
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(watch.request.range.key());
  create->set_range_end(watch.request.range.range_end());
  // Resume exactly where the last delivered event left off.
  create->set_start_revision(watch.next_revision > 0 ? watch.next_revision
                                                     : watch.request.start_revision);
  create->set_progress_notify(watch.request.progress_notify);
  if (watch.request.no_put) create->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  if (watch.request.no_delete) create->add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  create->set_prev_kv(watch.request.prev_kv);
  create->set_watch_id(watch.id);
  create->set_fragment(watch.request.fragment);
  return request;
}

absl::StatusOr<std::shared_ptr<WatchState>> WatchStream::Watch(WatchRequest request,
                                                               WatchListener* listener) {
  if (absl::Status s = request.range.Validate(); !s.ok()) return s;
  if (request.start_revision < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("start revision must not be negative, got ", request.start_revision));
  }
  if (listener == nullptr) return absl::InvalidArgumentError("a watch needs a listener");
  std::shared_ptr<WatchState> watch;
  {
    MutexLock lock(&mu_);
    if (shutdown_) return absl::CancelledError("the client was closed");
    watch = std::make_shared<WatchState>(next_id_++, std::move(request), listener);
    watch->next_revision = watch->request.start_revision;
    watch->next_revision_seen.store(watch->next_revision, std::memory_order_relaxed);
    watches_.emplace(watch->id, watch);
  }
  stream_.EnsureStarted();
  stream_.WithWriter([&](Stream::Writer* writer) {
    etcdserverpb::WatchRequest create;
    {
      MutexLock lock(&mu_);
      // Without a stream, or already picked up by OnOpen(): nothing to do.
      if (writer == nullptr || watch->phase != WatchState::Phase::kUnsent) return;
      watch->phase = WatchState::Phase::kCreating;
      creating_.push_back(watch->id);
      ++creates_sent_;
      create = CreateRequest(*watch);
    }
    writer->Write(create);
  });
  return watch;
}

void WatchStream::Cancel(const std::shared_ptr<WatchState>& watch) {
  watch->executor.Stop();
  stream_.WithWriter([&](Stream::Writer* writer) {
    bool on_stream;
    {
      MutexLock lock(&mu_);
      if (watch->phase == WatchState::Phase::kEnded) return;
      on_stream = watch->phase == WatchState::Phase::kCreating ||
                  watch->phase == WatchState::Phase::kActive;
      watch->phase = WatchState::Phase::kEnded;
      watches_.erase(watch->id);
    }
    // etcd handles requests in order, so a cancel right after a create that
    // is not answered yet still finds the watch.
    if (writer != nullptr && on_stream) {
      etcdserverpb::WatchRequest cancel;
      cancel.mutable_cancel_request()->set_watch_id(watch->id);
      writer->Write(cancel);
    }
  });
}

absl::Status WatchStream::RequestProgress() {
  stream_.EnsureStarted();
  return stream_.WithWriter([&](Stream::Writer* writer) {
    if (writer == nullptr) {
      // Sent right after the creates when the stream (re)opens.
      MutexLock lock(&mu_);
      progress_pending_ = true;
      return absl::OkStatus();
    }
    etcdserverpb::WatchRequest request;
    request.mutable_progress_request();
    if (!writer->Write(request)) {
      MutexLock lock(&mu_);
      progress_pending_ = true;  // the stream broke: ask again on the next one
    }
    return absl::OkStatus();
  });
}

void WatchStream::SetNextRevision(WatchState& watch, int64_t revision) {
  if (revision <= watch.next_revision) return;
  watch.next_revision = revision;
  watch.next_revision_seen.store(revision, std::memory_order_relaxed);
}

void WatchStream::End(const std::shared_ptr<WatchState>& watch, WatchEnd end,
                      std::vector<Delivery>& out) {
  watch->phase = WatchState::Phase::kEnded;
  watches_.erase(watch->id);
  out.push_back(Delivery{.watch = watch,
                         .kind = Delivery::Kind::kEnd,
                         .events = {},
                         .progress = 0,
                         .end = std::move(end)});
}

void WatchStream::OnOpen(Stream::Writer& writer) {
  std::vector<etcdserverpb::WatchRequest> burst;
  {
    MutexLock lock(&mu_);
    creating_.clear();
    // Re-create every live watch from its next revision, as one burst.
    for (auto& [id, watch] : watches_) {
      watch->phase = WatchState::Phase::kCreating;
      watch->fragments.clear();
      creating_.push_back(id);
      burst.push_back(CreateRequest(*watch));
    }
    creates_sent_ += burst.size();
    if (progress_pending_) {
      progress_pending_ = false;
      burst.emplace_back().mutable_progress_request();
    }
  }
  writer.WriteBurst(burst);
}

void WatchStream::OnBroken(const absl::Status& /*status*/) {
  MutexLock lock(&mu_);
  creating_.clear();
  for (auto& [id, watch] : watches_) {
    watch->phase = WatchState::Phase::kUnsent;
    // A partial fragmented response is dropped: it is sent again from the
    // watch's next revision.
    watch->fragments.clear();
  }
}

void WatchStream::OnMessage(etcdserverpb::WatchResponse& response) {
  std::vector<Delivery> out;
  bool refresh_token = false;
  bool restart = false;
  {
    MutexLock lock(&mu_);
    const int64_t revision = response.header().revision();
    int64_t id = response.watch_id();
    if (response.created()) {
      if (id == -1) {
        // An error answer without our id: it answers the oldest create.
        if (creating_.empty()) return;
        id = creating_.front();
        creating_.pop_front();
      } else {
        auto pos = std::find(creating_.begin(), creating_.end(), id);
        if (pos != creating_.end()) creating_.erase(pos);
      }
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // cancelled meanwhile
      std::shared_ptr<WatchState> watch = it->second;
      const std::string& reason = response.cancel_reason();
      if (response.canceled() && !watch->token_retried && connection_.has_credentials() &&
          (Connection::IsTokenRefusedReason(reason) ||
           absl::StrContains(reason, "permission denied"))) {
        // etcd checks a watch's permission with the token the stream was
        // opened with, which may have expired since: reopen the stream with
        // a new token (every watch is re-created on it) and try once more.
        watch->token_retried = true;
        watch->phase = WatchState::Phase::kUnsent;
        refresh_token = true;
      } else if (response.canceled()) {
        // etcd 3.4 stops reading the stream after refusing a watch for its
        // permissions (later creates would go unanswered): reopen it.
        restart = absl::StrContains(reason, "permission denied");
        End(watch,
            WatchEnd{.status = WithKeyRange(CancelStatus(reason), watch->request.range.key(),
                                            watch->request.range.range_end()),
                     .compact_revision = response.compact_revision(),
                     .next_revision = watch->next_revision},
            out);
      } else {
        watch->token_retried = false;
        watch->phase = WatchState::Phase::kActive;
        // Watching from now: history before this revision is not wanted.
        if (watch->next_revision == 0) SetNextRevision(*watch, revision + 1);
      }
    } else if (id == -1) {
      // A progress notification for the whole stream (RequestProgress):
      // etcd sends it only when every watch has caught up to `revision`.
      for (auto& [watch_id, watch] : watches_) {
        if (watch->phase != WatchState::Phase::kActive) continue;
        SetNextRevision(*watch, revision + 1);
        out.push_back(Delivery{.watch = watch,
                               .kind = Delivery::Kind::kProgress,
                               .events = {},
                               .progress = revision,
                               .end = {}});
      }
    } else if (auto it = watches_.find(id); it != watches_.end()) {
      std::shared_ptr<WatchState> watch = it->second;
      if (response.compact_revision() > 0) {
        End(watch,
            WatchEnd{.status = absl::OutOfRangeError(absl::StrCat(
                         "etcdserver: mvcc: required revision has been compacted (watch from "
                         "revision ",
                         watch->next_revision, ", compacted up to ",
                         response.compact_revision(), ")")),
                     .compact_revision = response.compact_revision(),
                     .next_revision = watch->next_revision},
            out);
      } else if (response.canceled()) {
        End(watch,
            WatchEnd{.status = CancelStatus(response.cancel_reason()),
                     .compact_revision = 0,
                     .next_revision = watch->next_revision},
            out);
      } else {
        for (mvccpb::Event& event : *response.mutable_events()) {
          watch->fragments.push_back(ParseEvent(event));
        }
        if (!response.fragment()) {
          std::vector<Event> events;
          events.swap(watch->fragments);
          if (events.empty()) {
            // A progress notification: every event up to `revision` was sent.
            SetNextRevision(*watch, revision + 1);
            out.push_back(Delivery{.watch = watch,
                                   .kind = Delivery::Kind::kProgress,
                                   .events = {},
                                   .progress = revision,
                                   .end = {}});
          } else {
            // Not the header revision: during catch-up it runs ahead of the
            // events delivered so far.
            SetNextRevision(*watch, events.back().kv.mod_revision + 1);
            out.push_back(Delivery{.watch = watch,
                                   .kind = Delivery::Kind::kEvents,
                                   .events = WatchEvents{revision, std::move(events)},
                                   .progress = 0,
                                   .end = {}});
          }
        }
      }
    }
  }
  if (refresh_token) {
    stream_.RestartWithNewToken();
  } else if (restart) {
    stream_.Restart();
  }
  Deliver(out);
}

void WatchStream::Deliver(std::vector<Delivery>& deliveries) {
  for (Delivery& delivery : deliveries) {
    std::shared_ptr<WatchState> watch = delivery.watch;
    WatchStream* self = this;
    watch->executor.Run([self, watch, delivery = std::move(delivery)]() mutable {
      WatchListener* listener = watch->listener;
      switch (delivery.kind) {
        case Delivery::Kind::kEvents: {
          absl::Status thrown =
              CallListener("watch listener", [&] { listener->OnEvents(delivery.events); });
          if (!thrown.ok()) self->EndAfterListenerError(watch, std::move(thrown));
          break;
        }
        case Delivery::Kind::kProgress: {
          absl::Status thrown = CallListener(
              "watch listener", [&] { listener->OnProgress(delivery.progress); });
          if (!thrown.ok()) self->EndAfterListenerError(watch, std::move(thrown));
          break;
        }
        case Delivery::Kind::kEnd:
          (void)CallListener("watch listener", [&] { listener->OnEnd(delivery.end); });
          watch->executor.Stop();  // nothing after the end
          break;
      }
    });
  }
}

void WatchStream::EndAfterListenerError(const std::shared_ptr<WatchState>& watch,
                                        absl::Status status) {
  // Runs inside the watch's own listener call: cancel it on the server, then
  // tell the listener why, as its last call.
  int64_t next_revision;
  {
    MutexLock lock(&mu_);
    next_revision = watch->next_revision;
  }
  Cancel(watch);
  (void)CallListener("watch listener", [&] {
    watch->listener->OnEnd(
        WatchEnd{.status = std::move(status), .compact_revision = 0, .next_revision = next_revision});
  });
}

WatchStream::Stats WatchStream::stats() const {
  Stats stats;
  stats.state = stream_.state();
  stats.streams_opened = stream_.opens();
  stats.handoffs = stream_.handoffs();
  MutexLock lock(&mu_);
  stats.creates_sent = creates_sent_;
  stats.watches = watches_.size();
  return stats;
}

}  // namespace etcdgrpc::internal
