#include "lib/internal/async_calls.h"

namespace etcdgrpc::internal {

bool AsyncCalls::Begin(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  if (shutting_down_) return false;
  in_flight_.insert(context);
  return true;
}

void AsyncCalls::Replace(grpc::ClientContext* old_context, grpc::ClientContext* new_context) {
  MutexLock lock(&mu_);
  in_flight_.erase(old_context);
  in_flight_.insert(new_context);
  // A retry that starts after CancelAllAndWait() cancelled everything must not
  // run for its whole deadline.
  if (shutting_down_) new_context->TryCancel();
}

void AsyncCalls::Release(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  in_flight_.erase(context);
  ++finishing_;
}

void AsyncCalls::Done() {
  MutexLock lock(&mu_);
  --finishing_;
  if (shutting_down_ && in_flight_.empty() && finishing_ == 0) all_ended_.Notify();
}

void AsyncCalls::CancelAllAndWait() {
  MutexLock lock(&mu_);
  shutting_down_ = true;
  // TryCancel only marks the call; its callback runs later on a gRPC thread.
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  all_ended_.Wait(mu_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return in_flight_.empty() && finishing_ == 0;
  });
}

}  // namespace etcdgrpc::internal
