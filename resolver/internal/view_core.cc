#include "resolver/internal/view_core.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backoff.h"
#include "common/listener_call.h"
#include "etcdgrpc/errors.h"
#include "etcdgrpc/registry/service_instance.h"
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

template <class F>
void ViewCore::Subscriber::Call(F&& f) {
  if (ended) return;
  absl::Status threw = etcdgrpc::internal::CallListener("service listener", std::forward<F>(f));
  if (threw.ok()) return;
  // Only this subscription ends; the others and the view go on.
  End(absl::InternalError(absl::StrCat(threw.message(), "; its subscription ended")));
}

void ViewCore::Subscriber::End(const absl::Status& status) {
  if (ended) return;
  ended = true;
  (void)etcdgrpc::internal::CallListener("service listener", [&] { listener->OnEnd(status); });
  // Inside one of its calls: drops what is queued, waits for nothing.
  executor.Stop();
  if (auto alive = view.lock()) alive->RemoveSubscriber(this);
}

ViewCore::ViewCore(std::shared_ptr<Client> client, std::shared_ptr<const registry::Codec> codec,
                   std::string prefix, std::string service, Scheduler* scheduler,
                   std::shared_ptr<ListenerRunner> runner)
    : client_(std::move(client)),
      codec_(std::move(codec)),
      prefix_(std::move(prefix)),
      service_(std::move(service)),
      service_prefix_(codec_->ServicePrefix(prefix_, service_)),
      scheduler_(scheduler),
      runner_(std::move(runner)),
      cell_(std::make_unique<Holder>(Holder{std::make_shared<EndpointSet>()})) {
  absl::MutexLock lock(&mu_);
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
    absl::MutexLock lock(&mu_);
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
    absl::MutexLock lock(&mu_);
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

std::shared_ptr<void> ViewCore::Subscribe(ServiceListener* listener, bool inline_calls) {
  auto subscriber = std::make_shared<Subscriber>(listener, inline_calls, weak_from_this());
  bool drain;
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) subscribers_.push_back(subscriber);
    std::shared_ptr<const EndpointSet> current = published_;
    std::vector<absl::Status> skipped;
    for (const auto& [key, report] : skipped_) skipped.push_back(report);
    // Queued under the lock, so it comes before any later update.
    drain = subscriber->executor.Post([subscriber, current, skipped = std::move(skipped)]() {
      for (const absl::Status& report : skipped) {
        subscriber->Call([&] { subscriber->listener->OnProblem(report); });
      }
      EndpointChanges changes;
      changes.added = current->endpoints;
      subscriber->Call([&] { subscriber->listener->OnUpdate(*current, changes); });
    });
    if (stopped_) {
      // A view that no longer follows its service: the current set, then
      // why it stopped.
      const absl::Status why = stopped_why_;
      (void)subscriber->executor.Post([subscriber, why] { subscriber->End(why); });
    }
  }
  // The first calls run here, on the subscribing thread.
  if (drain) subscriber->executor.Drain();
  return subscriber;
}

void ViewCore::Unsubscribe(const std::shared_ptr<void>& subscription) {
  auto subscriber = std::static_pointer_cast<Subscriber>(subscription);
  subscriber->executor.Stop();
  RemoveSubscriber(subscriber.get());
}

void ViewCore::RemoveSubscriber(const Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [subscriber](const std::shared_ptr<Subscriber>& s) {
                                      return s.get() == subscriber;
                                    }),
                     subscribers_.end());
}

absl::Status ViewCore::WaitForEndpoints(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto any = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !published_->endpoints.empty(); };
  if (mu_.AwaitWithTimeout(absl::Condition(&any), timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("no endpoint of service \"", service_,
                                                  "\" within ", absl::FormatDuration(timeout)));
}

int ViewCore::relists() const {
  absl::MutexLock lock(&mu_);
  return relists_;
}

int ViewCore::rewatches() const {
  absl::MutexLock lock(&mu_);
  return rewatches_;
}

absl::Duration ViewCore::Backoff(int failures) {
  // No jitter: one view per service, so no herd to spread.
  static constexpr BackoffOptions kOptions{.initial = absl::Milliseconds(100),
                                           .max = absl::Seconds(5),
                                           .multiplier = 2.0,
                                           .jitter = 0.0};
  absl::InsecureBitGen unused;
  return ::etcdgrpc::internal::Backoff::Delay(kOptions, failures, unused);
}

std::shared_ptr<const Endpoint> ViewCore::Decode(const KeyValue& kv,
                                                 std::vector<absl::Status>& problems) {
  absl::StatusOr<registry::ServiceInstance> instance = codec_->Decode(service_, kv.key, kv.value);
  absl::Status problem;
  if (!instance.ok()) {
    problem = instance.status();
  } else if (absl::Status address = registry::ValidateAddress(instance->address); !address.ok()) {
    // gRPC could not dial it: skip rather than hand out a broken channel.
    problem = absl::InvalidArgumentError(
        absl::StrCat("record ", kv.key, " has an unusable address: ", address.message()));
  }
  if (!problem.ok()) {
    absl::Status report(problem.code(), absl::StrCat("skipped (revision ", kv.mod_revision,
                                                     "): ", problem.message()));
    if (reported_.insert({kv.key, kv.mod_revision}).second) problems.push_back(report);
    skipped_[kv.key] = std::move(report);
    return nullptr;
  }
  skipped_.erase(kv.key);
  auto endpoint = std::make_shared<Endpoint>();
  endpoint->key = kv.key;
  endpoint->mod_revision = kv.mod_revision;
  endpoint->lease = kv.lease;
  endpoint->instance = *std::move(instance);
  return endpoint;
}

ViewCore::ToDrain ViewCore::ApplyListing(GetResult listing) {
  std::vector<absl::Status> problems;
  records_.clear();
  skipped_.clear();
  for (const KeyValue& kv : listing.kvs) {
    if (auto endpoint = Decode(kv, problems)) records_[kv.key] = std::move(endpoint);
  }
  return PublishLocked(listing.header.revision, std::move(problems));
}

ViewCore::ToDrain ViewCore::PublishLocked(int64_t revision, std::vector<absl::Status> problems) {
  auto set = std::make_shared<EndpointSet>();
  set->service = service_;
  set->revision = std::max(revision, revision_);
  revision_ = set->revision;
  set->endpoints.reserve(records_.size());
  for (const auto& [key, endpoint] : records_) set->endpoints.push_back(endpoint);
  EndpointChanges changes = Diff(*published_, *set);
  if (changes.empty() && problems.empty() && set->revision == published_->revision) return {};
  published_ = set;
  cell_.Publish(std::make_unique<Holder>(Holder{set}));
  if (changes.empty() && problems.empty()) return {};  // only the revision moved
  return QueueLocked(set, changes, problems);
}

ViewCore::ToDrain ViewCore::QueueLocked(const std::shared_ptr<const EndpointSet>& set,
                                        const EndpointChanges& changes,
                                        const std::vector<absl::Status>& problems) {
  ToDrain to_drain;
  for (const auto& subscriber : subscribers_) {
    if (subscriber->executor.Post([subscriber, set, changes, problems]() {
          for (const absl::Status& problem : problems) {
            subscriber->Call([&] { subscriber->listener->OnProblem(problem); });
          }
          if (set != nullptr && !changes.empty()) {
            subscriber->Call([&] { subscriber->listener->OnUpdate(*set, changes); });
          }
        })) {
      to_drain.push_back(subscriber);
    }
  }
  return to_drain;
}

void ViewCore::Drain(const ToDrain& subscribers) const {
  for (const auto& subscriber : subscribers) {
    if (subscriber->inline_calls) {
      subscriber->executor.Drain();
    } else {
      // Not on the watch stream's thread: a listener that blocks would hold
      // up this view's watch (and so its snapshots and balancers).
      runner_->Post([subscriber] { subscriber->executor.Drain(); });
    }
  }
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
    absl::MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
    watch_failures_ = 0;
    to_drain = ApplyEvents(batch);
  }
  Drain(to_drain);
}

ViewCore::ToDrain ViewCore::ApplyEvents(const WatchEvents& batch) {
  std::vector<absl::Status> problems;
  int64_t revision = revision_;
  for (const Event& event : batch.events) {
    revision = std::max(revision, event.kv.mod_revision);
    if (event.type == EventType::kDelete) {
      records_.erase(event.kv.key);
      skipped_.erase(event.kv.key);
      continue;
    }
    if (auto endpoint = Decode(event.kv, problems)) {
      records_[event.kv.key] = std::move(endpoint);
    } else {
      records_.erase(event.kv.key);  // its previous version no longer holds
    }
  }
  return PublishLocked(revision, std::move(problems));
}

void ViewCore::OnWatchProgress(uint64_t generation, int64_t revision) {
  ToDrain to_drain;
  {
    absl::MutexLock lock(&mu_);
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
      absl::MutexLock lock(&mu_);
      if (stopped_ || generation != generation_) return;
    }
    // Nothing can be followed any more: the view keeps its last snapshot.
    return Stop(ClientClosed());
  }
  ToDrain to_drain;
  bool compacted = false;
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
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
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  scheduler_->PostAfter(delay, [weak, generation] {
    if (auto view = weak.lock()) view->Rewatch(generation);
  });
}

absl::Status ViewCore::ClientClosed() const {
  return absl::CancelledError(absl::StrCat("the client was closed; the view of ", service_prefix_,
                                           " keeps its last endpoints and no longer follows them"));
}

void ViewCore::Rewatch(uint64_t generation) {
  WatchHandle previous;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
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
  absl::MutexLock lock(&mu_);
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
      absl::MutexLock lock(&view->mu_);
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
            absl::MutexLock lock(&view->mu_);
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
            absl::MutexLock lock(&view->mu_);
            view->failed_relists_ = 0;
            return;
          }
          if (view->client_->closed()) return view->Stop(view->ClientClosed());
          // Try again with a growing delay (etcd down, no permission, ...).
          // Under the lock: Stop() takes it before the scheduler goes away.
          absl::MutexLock lock(&view->mu_);
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
