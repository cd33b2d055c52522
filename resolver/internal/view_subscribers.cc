// A view's subscribers: their calls are queued under the view's lock, so that
// each hears every update in order, and made outside it, on the runner or
// inline; a listener that throws ends only its own subscription.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/listener_call.h"
#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver::internal {

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

std::shared_ptr<void> ViewCore::Subscribe(ServiceListener* listener, bool inline_calls) {
  auto subscriber = std::make_shared<Subscriber>(listener, inline_calls, weak_from_this());
  bool drain;
  {
    MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [subscriber](const std::shared_ptr<Subscriber>& s) {
                                      return s.get() == subscriber;
                                    }),
                     subscribers_.end());
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

}  // namespace etcdgrpc::resolver::internal
