#include "etcdgrpc/concurrency/wait_options.h"

#include <functional>
#include <map>
#include <utility>

#include "concurrency/internal/cancel_state.h"

namespace etcdgrpc::concurrency {

Canceller::Canceller() : state_(std::make_shared<internal::CancelState>()) {}

void Canceller::Cancel() {
  std::map<uint64_t, std::function<void()>> wakers;
  {
    ::etcdgrpc::internal::MutexLock lock(&state_->mu);
    if (state_->cancelled) return;
    state_->cancelled = true;
    wakers = std::move(state_->wakers);
    state_->wakers.clear();
  }
  for (auto& [id, wake] : wakers) wake();
}

bool Canceller::cancelled() const {
  ::etcdgrpc::internal::MutexLock lock(&state_->mu);
  return state_->cancelled;
}

}  // namespace etcdgrpc::concurrency
