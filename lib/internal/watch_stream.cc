#include "lib/internal/watch_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/listener_call.h"
#include "lib/internal/grpc_status.h"
#include "lib/internal/kv_codec.h"

namespace etcdgrpc::internal {
namespace {

constexpr absl::string_view kWatchMethod = "/etcdserverpb.Watch/Watch";

}  // namespace

WatchStream::WatchStream(Connection& connection, Scheduler& timer, const ClientOptions& options)
    : connection_(connection),
      timer_(timer),
      probe_after_(options.liveness.watch_probe_after),
      probe_timeout_(options.liveness.probe_timeout),
      stream_(
          connection, timer, std::string(kWatchMethod),
          Stream::Options{.backoff = options.stream_backoff,
                          .handoff_after = options.slow_listener_handoff,
                          .write_timeout = options.liveness.write_timeout,
                          // Whether progress answers can be trusted.
                          .learn_version_timeout = options.liveness.probe_timeout},
          [](EndpointStubs& stubs, grpc::ClientContext* context) {
            return stubs.watch->Watch(context);
          },
          this) {}

WatchStream::~WatchStream() { Shutdown(); }

void WatchStream::EnsureStarted() {
  {
    MutexLock lock(&mu_);
    if (!started_ && !shutdown_) {
      started_ = true;
      // Before another thread can see started_ and ask for a wake-up: the
      // timer drops RequestWake() for a slot it does not have. Its lock is a leaf.
      timer_.Add(this);
    }
  }
  stream_.EnsureStarted();
}

void WatchStream::Shutdown() {
  stream_.Shutdown();
  Drains out;
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
  Drain(out);
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
  EnsureStarted();
  bool first = false;
  stream_.WithWriter([&](Stream::Writer* writer) {
    MutexLock lock(&mu_);
    first = watches_.size() == 1;
    // Without a stream, or already picked up by OnOpen(): nothing to do.
    if (writer == nullptr || watch->phase != WatchState::Phase::kUnsent) return;
    watch->phase = WatchState::Phase::kCreating;
    creating_.push_back(watch->id);
    ++creates_sent_;
    writer->Write(CreateRequest(*watch));
  });
  // The probe watches only a stream with watches: start looking now.
  if (first) timer_.RequestWake(this, MonoNow() + probe_after_);
  return watch;
}

void WatchStream::Cancel(const std::shared_ptr<WatchState>& watch) {
  watch->executor.Stop();
  stream_.WithWriter([&](Stream::Writer* writer) {
    MutexLock lock(&mu_);
    if (watch->phase == WatchState::Phase::kEnded) return;
    const bool on_stream =
        watch->phase == WatchState::Phase::kCreating || watch->phase == WatchState::Phase::kActive;
    watch->phase = WatchState::Phase::kEnded;
    watches_.erase(watch->id);
    // etcd handles requests in order, so a cancel right after a create that
    // is not answered yet still finds the watch.
    if (writer != nullptr && on_stream) {
      etcdserverpb::WatchRequest cancel;
      cancel.mutable_cancel_request()->set_watch_id(watch->id);
      writer->Write(std::move(cancel));
    }
  });
}

absl::Status WatchStream::RequestProgress() {
  EnsureStarted();
  stream_.WithWriter([&](Stream::Writer* writer) {
    MutexLock lock(&mu_);
    progress_wanted_ = true;
    if (writer == nullptr) {
      progress_pending_ = true;  // sent right after the creates when the stream (re)opens
      return;
    }
    etcdserverpb::WatchRequest request;
    request.mutable_progress_request();
    writer->Write(std::move(request));
  });
  return absl::OkStatus();
}

absl::Time WatchStream::OnTimer(absl::Time now) {
  bool probe = false;
  uint64_t generation = 0;
  {
    MutexLock lock(&mu_);
    if (shutdown_ || !stream_open_ || watches_.empty()) {
      probe_sent_ = absl::InfiniteFuture();
      return absl::InfiniteFuture();  // Watch() and OnOpen() wake it again
    }
    const absl::Time last = stream_.last_activity();
    generation = stream_generation_;
    if (probe_sent_ != absl::InfiniteFuture()) {
      if (last >= probe_sent_) {
        probe_sent_ = absl::InfiniteFuture();  // answered (anything counts)
      } else if (now < probe_sent_ + probe_timeout_) {
        return probe_sent_ + probe_timeout_;
      }
    }
    if (probe_sent_ == absl::InfiniteFuture()) {
      if (now < last + probe_after_) return last + probe_after_;
      probe = true;
    }
  }
  if (!probe) {
    // Quiet since the probe went out: the member is stuck (frozen,
    // black-holed). Resume every watch elsewhere.
    {
      MutexLock lock(&mu_);
      probe_sent_ = absl::InfiniteFuture();
    }
    stream_.Break(
        absl::StrCat("no answer to a progress probe within ", absl::FormatDuration(probe_timeout_)),
        generation);
    return absl::InfiniteFuture();  // OnOpen() wakes it again
  }
  stream_.WithWriter([&](Stream::Writer* writer) {
    if (writer == nullptr) return;
    MutexLock lock(&mu_);
    probe_sent_ = now;
    ++probes_sent_;
    etcdserverpb::WatchRequest request;
    request.mutable_progress_request();
    writer->Write(std::move(request));
  });
  return now + probe_timeout_;
}

void WatchStream::SetNextRevision(WatchState& watch, int64_t revision) {
  if (revision <= watch.next_revision) return;
  watch.next_revision = revision;
  watch.next_revision_seen.store(revision, std::memory_order_relaxed);
}

void WatchStream::End(const std::shared_ptr<WatchState>& watch, WatchEnd end, Drains& out) {
  watch->phase = WatchState::Phase::kEnded;
  watches_.erase(watch->id);
  if (watch->executor.Post([watch, end = std::move(end)] {
        (void)CallListener("watch listener", [&] { watch->listener->OnEnd(end); });
        watch->executor.Stop();  // nothing after the end
      })) {
    out.push_back(watch);
  }
}

void WatchStream::QueueEvents(const std::shared_ptr<WatchState>& watch, WatchEvents events,
                              Drains& out) {
  if (watch->executor.Post([this, watch, events = std::move(events)] {
        absl::Status thrown =
            CallListener("watch listener", [&] { watch->listener->OnEvents(events); });
        if (!thrown.ok()) EndAfterListenerError(watch, std::move(thrown));
      })) {
    out.push_back(watch);
  }
}

void WatchStream::QueueProgress(const std::shared_ptr<WatchState>& watch, int64_t revision,
                                Drains& out) {
  if (watch->executor.Post([this, watch, revision] {
        absl::Status thrown =
            CallListener("watch listener", [&] { watch->listener->OnProgress(revision); });
        if (!thrown.ok()) EndAfterListenerError(watch, std::move(thrown));
      })) {
    out.push_back(watch);
  }
}

void WatchStream::OnOpen(Stream::Writer& writer) {
  std::vector<etcdserverpb::WatchRequest> burst;
  {
    MutexLock lock(&mu_);
    stream_open_ = true;
    stream_generation_ = stream_.opens();
    probe_sent_ = absl::InfiniteFuture();
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
  timer_.RequestWake(this, MonoNow() + probe_after_);
}

void WatchStream::OnBroken(const absl::Status& /*status*/) {
  MutexLock lock(&mu_);
  stream_open_ = false;
  probe_sent_ = absl::InfiniteFuture();
  creating_.clear();
  for (auto& [id, watch] : watches_) {
    watch->phase = WatchState::Phase::kUnsent;
    // A partial fragmented response is dropped: it is sent again from the
    // watch's next revision.
    watch->fragments.clear();
  }
}

void WatchStream::Drain(Drains& drains) {
  for (auto& watch : drains) watch->executor.Drain();
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
    watch->listener->OnEnd(WatchEnd{
        .status = std::move(status), .compact_revision = 0, .next_revision = next_revision});
  });
}

WatchStreamStats WatchStream::stats() const {
  WatchStreamStats stats;
  stream_.FillStats(&stats);
  MutexLock lock(&mu_);
  stats.creates_sent = creates_sent_;
  stats.probes_sent = probes_sent_;
  stats.watches = watches_.size();
  return stats;
}

}  // namespace etcdgrpc::internal
