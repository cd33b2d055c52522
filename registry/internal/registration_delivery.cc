// The listener calls of one registration: queued under the lock, made in
// order on the Registrar's listener runner, the last ones by Deregister().
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/listener_call.h"
#include "registry/internal/registration_core.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

void RegistrationCore::DeliverLast(const absl::Status& result) {
  if (listener_ == nullptr) return;
  RegistrationEvent event{.state = RegistrationState::kDeregistered, .reason = result};
  // Calls not yet made (say, kRegistered of a registration deregistered at
  // once) are still made, in order, before kDeregistered.
  std::deque<RegistrationEvent> to_deliver;
  {
    MutexLock lock(&mu_);
    if (listener_done_) {
      // The listener already heard its last call (it threw).
    } else if (delivering_ && delivering_thread_ == std::this_thread::get_id()) {
      // Called from this registration's own listener call: deliver after
      // it returns, never inside it.
      pending_.push_back(event);
    } else {
      // Waits for a listener call in progress on another thread.
      delivery_ended_.Wait(mu_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !delivering_; });
      // From here on the runner delivers nothing more (listener_done_),
      // so the calls below cannot overlap with one of its calls.
      if (!listener_done_) {
        to_deliver.swap(pending_);
        to_deliver.push_back(event);
        listener_done_ = true;
      }
    }
  }
  for (const RegistrationEvent& e : to_deliver) {
    // A listener that throws here has nothing more to hear.
    (void)etcdgrpc::internal::CallListener("registration listener",
                                           [&] { listener_->OnStateChange(e); });
  }
}

bool RegistrationCore::QueueEvent(RegistrationState state, absl::Status reason, int64_t lease_id,
                                  absl::Duration ttl) {
  state_ = state;
  if (listener_ == nullptr || listener_done_) return false;
  pending_.push_back(RegistrationEvent{
      .state = state, .reason = std::move(reason), .lease_id = lease_id, .ttl = ttl});
  if (delivery_posted_ || delivering_) return false;
  delivery_posted_ = true;
  return true;
}

void RegistrationCore::PostDelivery() {
  shared_->listeners().Post([self = shared_from_this()] { self->DeliverEvents(); });
}

void RegistrationCore::DeliverEvents() {
  while (true) {
    RegistrationEvent event;
    {
      MutexLock lock(&mu_);
      delivery_posted_ = false;
      if (pending_.empty() || listener_done_) return EndDeliveringLocked();
      event = std::move(pending_.front());
      pending_.pop_front();
      delivering_ = true;
      delivering_thread_ = std::this_thread::get_id();
    }
    absl::Status threw = etcdgrpc::internal::CallListener("registration listener",
                                                          [&] { listener_->OnStateChange(event); });
    if (event.state == RegistrationState::kDeregistered) {
      MutexLock lock(&mu_);
      listener_done_ = true;
      return EndDeliveringLocked();
    }
    if (!threw.ok()) return EndAfterListenerError(threw);
  }
}

void RegistrationCore::EndDeliveringLocked() {
  delivering_ = false;
  delivering_thread_ = std::thread::id();
  delivery_ended_.Notify();
}

void RegistrationCore::EndAfterListenerError(const absl::Status& status) {
  // Still "delivering" on this thread: a Deregister() elsewhere waits, and
  // the runner delivers nothing more for this registration.
  std::shared_ptr<Teardown> teardown =
      BeginDeregister(::etcdgrpc::internal::MonoNow() + shared_->request_timeout());
  if (teardown == nullptr) {
    // A Deregister() in progress on another thread waits for this call to
    // end, then tells the listener.
    MutexLock lock(&mu_);
    return EndDeliveringLocked();
  }
  {
    // Its final call is made below, not by FinishDeregister; what was
    // queued after the call that threw is not delivered.
    MutexLock lock(&mu_);
    listener_done_ = true;
    pending_.clear();
  }
  const absl::Status deregistered = FinishDeregister(teardown);
  {
    MutexLock lock(&mu_);
    EndDeliveringLocked();
  }
  const RegistrationEvent event{
      .state = RegistrationState::kDeregistered,
      .reason = absl::InternalError(absl::StrCat(
          status.message(), "; ", Printable(key()),
          deregistered.ok() ? " was deregistered"
                            : absl::StrCat(" was not deregistered: ", deregistered.message())))};
  (void)etcdgrpc::internal::CallListener("registration listener",
                                         [&] { listener_->OnStateChange(event); });
}

}  // namespace etcdgrpc::registry::internal
