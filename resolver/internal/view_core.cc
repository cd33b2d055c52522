// Following one service: the first listing, the watch, re-watching after it
// ends and re-listing after a compaction, with backoff; stopping.
#include "resolver/internal/view_core.h"

#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "etcdgrpc/errors.h"
#include "resolver/internal/epoch.h"

namespace etcdgrpc::resolver::internal {

// Forwards a watch's calls to the view, tagged with the watch's generation.
class ViewCore::WatchAdapter : public WatchListener {
 public:
  WatchAdapter(std::weak_ptr<ViewCore> view, uint64_t generation)
      : view_(std::move(view)), generation_(generation) {}
  void OnEvents(const WatchEvents& batch) override {
    if (auto view = view_.lock()) view->OnWatchEvents(generation_, batch);
  }
  void OnProgress(int64_t revision) override {
    if (auto view = view_.lock()) view->OnWatchProgress(generation_, revision);
  }
  void OnEnd(const WatchEnd& end) override {
    if (auto view = view_.lock()) view->OnWatchEnd(generation_, end);
  }

 private:
  std::weak_ptr<ViewCore> view_;
  const uint64_t generation_;
};

ViewCore::ViewCore(std::shared_ptr<Client> client, std::shared_ptr<const registry::Codec> codec,
                   std::string prefix, std::string service, Scheduler* scheduler,
                   std::shared_ptr<ListenerRunner> runner, HoldSettings hold, Gauge endpoints_gauge)
    : client_(std::move(client)),
      codec_(std::move(codec)),
      prefix_(std::move(prefix)),
      service_(std::move(service)),
      service_prefix_(codec_->ServicePrefix(prefix_, service_)),
      scheduler_(scheduler),
      runner_(std::move(runner)),
      cell_(std::make_unique<Holder>(Holder{std::make_shared<EndpointSet>()})),
      hold_(hold),
      endpoints_gauge_(endpoints_gauge) {
  MutexLock lock(&mu_);
  published_ = std::make_shared<EndpointSet>(EndpointSet{service_, 0, {}});
  cell_.Publish(std::make_unique<Holder>(Holder{published_}));
}

// Subscriptions keep their view alive, so none is left when it goes away.
ViewCore::~ViewCore() { Stop(absl::CancelledError("the view was dropped")); }

absl::Status ViewCore::Start() {
  absl::StatusOr<GetResult> listing = client_->Range(KeyRange::Prefix(service_prefix_));
  if (!listing.ok()) return listing.status();
  ToDrain to_drain;
  absl::StatusOr<WatchHandle> previous;
  {
    MutexLock lock(&mu_);
    to_drain = ApplyListing(*std::move(listing));
    previous = StartWatchLocked(revision_ + 1);
  }
  Drain(to_drain);
  return previous.status();
}

void ViewCore::Stop(const absl::Status& why) {
  WatchHandle watch;
  ToDrain to_drain;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    stopped_why_ = why;
    watch = std::move(watch_);
    // Queued under the lock, after every update queued before: each
    // subscriber hears OnEnd last.
    for (const auto& subscriber : subscribers_) {
      if (subscriber->executor.Post([subscriber, why] { subscriber->End(why); })) {
        to_drain.push_back(subscriber);
      }
    }
    subscribers_.clear();
  }
  watch.Cancel();  // outside the lock: it waits for a listener call in progress
  Drain(to_drain);
}

std::shared_ptr<const EndpointSet> ViewCore::snapshot() const {
  EpochDomain::ReadGuard guard;
  return cell_.Load()->set;
}

absl::Status ViewCore::WaitForEndpoints(absl::Duration timeout) const {
  MutexLock lock(&mu_);
  auto any = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !published_->endpoints.empty(); };
  if (published_changed_.WaitUntil(mu_, ::etcdgrpc::internal::MonoNow() + timeout, any)) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(absl::StrCat("no endpoint of service \"", service_,
                                                  "\" within ", absl::FormatDuration(timeout)));
}

int ViewCore::relists() const {
  MutexLock lock(&mu_);
  return relists_;
}

int ViewCore::rewatches() const {
  MutexLock lock(&mu_);
  return rewatches_;
}

absl::Duration ViewCore::Backoff(int failures) {
  // No jitter: one view per service, so no herd to spread.
  static constexpr BackoffOptions kOptions{
      .initial = absl::Milliseconds(100), .max = absl::Seconds(5), .multiplier = 2.0};
  return ::etcdgrpc::internal::Backoff::DelayWithoutJitter(kOptions, failures);
}

absl::StatusOr<WatchHandle> ViewCore::StartWatchLocked(int64_t from_revision) {
  const uint64_t generation = ++generation_;
  auto adapter = std::make_unique<WatchAdapter>(weak_from_this(), generation);
  absl::StatusOr<WatchHandle> watch = client_->Watch(
      {.range = KeyRange::Prefix(service_prefix_), .start_revision = from_revision}, adapter.get());
  if (!watch.ok()) return watch.status();
  adapter_.swap(adapter);
  if (adapter != nullptr) retired_adapters_.push_back(std::move(adapter));
  WatchHandle previous = std::move(watch_);
  watch_ = *std::move(watch);
  return previous;
}

void ViewCore::OnWatchEvents(uint64_t generation, const WatchEvents& batch) {
  ToDrain to_drain;
  {
    MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
    watch_failures_ = 0;
    to_drain = ApplyEvents(batch);
  }
  Drain(to_drain);
}

void ViewCore::OnWatchProgress(uint64_t generation, int64_t revision) {
  ToDrain to_drain;
  {
    MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
    watch_failures_ = 0;
    to_drain = PublishLocked(revision, {});
  }
  Drain(to_drain);
}

void ViewCore::OnWatchEnd(uint64_t generation, const WatchEnd& end) {
  const bool client_closed = client_->closed() || (absl::IsCancelled(end.status) &&
                                                   end.status.message() == "the client was closed");
  if (client_closed) {
    {
      MutexLock lock(&mu_);
      if (stopped_ || generation != generation_) return;
    }
    // Nothing can be followed any more: the view keeps its last snapshot.
    return Stop(ClientClosed());
  }
  ToDrain to_drain;
  bool compacted = false;
  absl::Duration delay;
  {
    MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
    compacted = IsCompacted(end.status);
    absl::Status problem;
    if (compacted) {
      problem = absl::OutOfRangeError(absl::StrCat("history compacted up to revision ",
                                                   end.compact_revision, " while following ",
                                                   service_prefix_, "; listing it again"));
    } else {
      // Nothing was missed up to the snapshot's revision: watch on from
      // there, with backoff (a watch that keeps ending must not spin).
      delay = Backoff(watch_failures_++);
      problem = absl::Status(end.status.code(),
                             absl::StrCat("the watch of ", service_prefix_, " ended (",
                                          end.status.message(), "); watching again from revision ",
                                          revision_ + 1, " in ", absl::FormatDuration(delay)));
    }
    to_drain = QueueLocked(nullptr, {}, {problem});
  }
  Drain(to_drain);
  if (compacted) return Relist(absl::ZeroDuration());
  std::weak_ptr<ViewCore> weak = weak_from_this();
  MutexLock lock(&mu_);
  if (stopped_) return;
  scheduler_->PostAfter(delay, [weak, generation] {
    if (auto view = weak.lock()) view->Rewatch(generation);
  });
}

void ViewCore::HoldExpired(uint64_t hold_id) {
  ToDrain to_drain;
  {
    MutexLock lock(&mu_);
    if (stopped_ || hold_id != hold_id_ || hold_base_ == nullptr) return;
    hold_expired_ = true;
    to_drain = PublishLocked(revision_, {});
  }
  Drain(to_drain);
}

void ViewCore::ReportProblem(const absl::Status& problem) {
  ToDrain to_drain;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    to_drain = QueueLocked(nullptr, {}, {problem});
  }
  Drain(to_drain);
}

absl::Status ViewCore::ClientClosed() const {
  return absl::CancelledError(absl::StrCat("the client was closed; the view of ", service_prefix_,
                                           " keeps its last endpoints and no longer follows them"));
}

void ViewCore::Rewatch(uint64_t generation) {
  WatchHandle previous;
  absl::Status status;
  {
    MutexLock lock(&mu_);
    // A re-list (or another re-watch) got there first.
    if (stopped_ || generation != generation_) return;
    absl::StatusOr<WatchHandle> started = StartWatchLocked(revision_ + 1);
    status = started.status();
    if (started.ok()) {
      previous = *std::move(started);
      ++rewatches_;
    }
  }
  previous.Cancel();  // the watch that ended
  if (status.ok()) return;
  if (client_->closed()) return Stop(ClientClosed());
  // Could not even start one: try again later.
  std::weak_ptr<ViewCore> weak = weak_from_this();
  MutexLock lock(&mu_);
  if (stopped_) return;
  scheduler_->PostAfter(Backoff(watch_failures_++), [weak, generation] {
    if (auto view = weak.lock()) view->Rewatch(generation);
  });
}

void ViewCore::Relist(absl::Duration delay) {
  std::weak_ptr<ViewCore> weak = weak_from_this();
  auto run = [weak] {
    std::shared_ptr<ViewCore> view = weak.lock();
    if (view == nullptr) return;
    {
      MutexLock lock(&view->mu_);
      if (view->stopped_) return;
    }
    view->client_->RangeAsync(
        KeyRange::Prefix(view->service_prefix_), {}, [weak](absl::StatusOr<GetResult> listing) {
          std::shared_ptr<ViewCore> view = weak.lock();
          if (view == nullptr) return;
          ToDrain to_drain;
          WatchHandle previous;
          absl::Status status = listing.status();
          {
            MutexLock lock(&view->mu_);
            if (view->stopped_) return;
            if (status.ok()) {
              ++view->relists_;
              to_drain = view->ApplyListing(*std::move(listing));
              absl::StatusOr<WatchHandle> started = view->StartWatchLocked(view->revision_ + 1);
              status = started.status();
              if (started.ok()) previous = *std::move(started);
            }
          }
          previous.Cancel();
          view->Drain(to_drain);
          if (status.ok()) {
            MutexLock lock(&view->mu_);
            view->failed_relists_ = 0;
            return;
          }
          if (view->client_->closed()) return view->Stop(view->ClientClosed());
          // Try again with a growing delay (etcd down, no permission, ...).
          // Under the lock: Stop() takes it before the scheduler goes away.
          MutexLock lock(&view->mu_);
          if (view->stopped_) return;
          const absl::Duration retry = Backoff(++view->failed_relists_);
          view->scheduler_->PostAfter(retry, [weak] {
            if (auto again = weak.lock()) again->Relist(absl::ZeroDuration());
          });
        });
  };
  if (delay <= absl::ZeroDuration()) {
    run();
  } else {
    scheduler_->PostAfter(delay, run);
  }
}

}  // namespace etcdgrpc::resolver::internal
