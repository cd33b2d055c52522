#include "concurrency/internal/observer.h"

#include <utility>

#include "concurrency/internal/keys.h"

namespace etcdgrpc::concurrency::internal {

using ::etcdgrpc::internal::MutexLock;

// The listener of one watch, tagged with its generation: events of a watch
// already replaced are dropped. It follows the observer through a weak_ptr,
// locked for the whole call: the listener may drop its ElectionObservation
// (the last owner of the observer, and of this sink) from inside OnLeader.
class Observer::Sink final : public WatchListener {
 public:
  Sink(std::weak_ptr<Observer> observer, uint64_t generation)
      : observer_(std::move(observer)), generation_(generation) {}
  void OnEvents(const WatchEvents& batch) override {
    if (std::shared_ptr<Observer> observer = observer_.lock()) {
      observer->OnEvents(generation_, batch);
    }
  }
  void OnEnd(const WatchEnd& end) override {
    if (std::shared_ptr<Observer> observer = observer_.lock()) {
      observer->OnWatchEnd(generation_, end);
    }
  }

 private:
  const std::weak_ptr<Observer> observer_;
  const uint64_t generation_;
};

Observer::Observer(std::shared_ptr<Session> session, std::string prefix, ElectionListener* listener)
    : session_(std::move(session)), prefix_(std::move(prefix)), listener_(listener) {}

Observer::~Observer() { Stop(); }

absl::StatusOr<std::shared_ptr<Observer>> Observer::Start(std::shared_ptr<Session> session,
                                                          std::string prefix,
                                                          ElectionListener* listener) {
  absl::StatusOr<GetResult> first =
      session->client().Range(KeyRange::Prefix(prefix), OldestCreated());
  if (!first.ok()) return first.status();
  auto observer = std::make_shared<Observer>(std::move(session), std::move(prefix), listener);
  observer->OnListing(*std::move(first));
  return observer;
}

void Observer::Stop() {
  WatchHandle watch;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    watch = std::move(watch_);
  }
  watch.Cancel();
  executor_.Stop();
}

void Observer::OnListing(absl::StatusOr<GetResult> result) {
  if (!result.ok()) return End(result.status());
  if (result->kvs.empty()) {
    // No leader: the first key put under the prefix is the next one.
    return Follow(WatchRequest{.range = KeyRange::Prefix(prefix_),
                               .start_revision = result->header.revision + 1,
                               .no_delete = true},
                  Phase::kAwaitingCandidate);
  }
  const KeyValue leader = result->kvs[0];
  Deliver(LeaderInfo{.header = result->header, .kv = leader});
  Follow(WatchRequest{.range = KeyRange::Key(leader.key),
                      .start_revision = result->header.revision + 1},
         Phase::kFollowingLeader);
}

void Observer::OnEvents(uint64_t generation, const WatchEvents& batch) {
  Phase phase;
  {
    MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
    phase = phase_;
  }
  if (phase == Phase::kAwaitingCandidate) {
    for (const Event& event : batch.events) {
      if (event.type != EventType::kPut) continue;
      // Go reports the put's own revision in the header.
      ResponseHeader header;
      header.revision = event.kv.mod_revision;
      Deliver(LeaderInfo{.header = header, .kv = event.kv});
      return Follow(WatchRequest{.range = KeyRange::Key(event.kv.key),
                                 .start_revision = event.kv.mod_revision + 1},
                    Phase::kFollowingLeader);
    }
    return;
  }
  for (const Event& event : batch.events) {
    if (event.type == EventType::kDelete) return Relist();
    ResponseHeader header;
    header.revision = batch.revision;
    Deliver(LeaderInfo{.header = header, .kv = event.kv});
  }
}

void Observer::OnWatchEnd(uint64_t generation, const WatchEnd& end) {
  {
    MutexLock lock(&mu_);
    if (stopped_ || generation != generation_) return;
  }
  End(end.status.ok() ? absl::UnknownError("the watch ended") : end.status);
}

void Observer::Relist() {
  session_->client().RangeAsync(KeyRange::Prefix(prefix_), OldestCreated(),
                                [weak = weak_from_this()](absl::StatusOr<GetResult> result) {
                                  if (std::shared_ptr<Observer> self = weak.lock())
                                    self->OnListing(std::move(result));
                                });
}

void Observer::Follow(WatchRequest request, Phase phase) {
  uint64_t generation;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    generation = generation_ + 1;
  }
  auto sink = std::make_unique<Sink>(weak_from_this(), generation);
  absl::StatusOr<WatchHandle> watch = session_->client().Watch(std::move(request), sink.get());
  if (!watch.ok()) return End(watch.status());
  WatchHandle old;
  {
    MutexLock lock(&mu_);
    if (stopped_) {
      // Stop() ran meanwhile: the new watch is cancelled below, before its sink goes.
      old = *std::move(watch);
      retired_ = std::move(sink);
    } else {
      generation_ = generation;
      phase_ = phase;
      old = std::exchange(watch_, *std::move(watch));
      retired_ = std::exchange(sink_, std::move(sink));
    }
  }
  // Outside the lock; from inside the old watch's own call it does not wait.
  old.Cancel();
}

void Observer::Deliver(LeaderInfo leader) {
  executor_.Run([this, leader = std::move(leader)]() { listener_->OnLeader(leader); });
}

void Observer::End(const absl::Status& why) {
  WatchHandle watch;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    watch = std::move(watch_);
  }
  watch.Cancel();
  executor_.Run([this, why]() { listener_->OnEnd(why); });
}

}  // namespace etcdgrpc::concurrency::internal
