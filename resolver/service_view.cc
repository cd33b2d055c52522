#include "etcdgrpc/resolver/service_view.h"

#include <utility>

#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver {

ServiceView::ServiceView(std::shared_ptr<internal::ViewCore> core) : core_(std::move(core)) {}
ServiceView::~ServiceView() = default;

const std::string& ServiceView::service() const { return core_->service(); }

std::shared_ptr<const EndpointSet> ServiceView::snapshot() const { return core_->snapshot(); }

ServiceView::Subscription ServiceView::Subscribe(ServiceListener* listener) {
  return Subscription(core_, core_->Subscribe(listener));
}

absl::Status ServiceView::WaitForEndpoints(absl::Duration timeout) const {
  return core_->WaitForEndpoints(timeout);
}

ServiceView::Subscription::Subscription(std::shared_ptr<internal::ViewCore> core,
                                        std::shared_ptr<void> state)
    : core_(std::move(core)), state_(std::move(state)) {}

ServiceView::Subscription::Subscription(Subscription&& other) noexcept
    : core_(std::move(other.core_)), state_(std::move(other.state_)) {}

ServiceView::Subscription& ServiceView::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    Cancel();
    core_ = std::move(other.core_);
    state_ = std::move(other.state_);
  }
  return *this;
}

ServiceViewStats ServiceView::stats() const {
  return {.relists = core_->relists(), .rewatches = core_->rewatches()};
}

ServiceView::Subscription::~Subscription() { Cancel(); }

void ServiceView::Subscription::Cancel() {
  if (state_ == nullptr) return;
  core_->Unsubscribe(state_);
  state_.reset();
  core_.reset();
}

}  // namespace etcdgrpc::resolver
