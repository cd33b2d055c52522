// Tracks a client's asynchronous calls in flight so that destroying the client
// cancels them and waits for their callbacks instead of leaving them running
// against freed state.
#pragma once

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "common/mutex.h"
#include "grpcpp/client_context.h"

namespace etcdgrpc::internal {

class AsyncCalls {
 public:
  // Registers a call about to start; false once shutdown began (the caller
  // then completes the call with CANCELLED itself).
  [[nodiscard]] bool Begin(grpc::ClientContext* context);
  // Replaces the context of a call being retried.
  void Replace(grpc::ClientContext* old_context, grpc::ClientContext* new_context);
  // The call's callback has returned: Release() before its state (context
  // included) is freed, so that nothing cancels a freed context, and Done()
  // once it is, so that ~Client waits until then.
  void Release(grpc::ClientContext* context);
  void Done();
  // Cancels every call in flight and waits until all have ended.
  void CancelAllAndWait();

 private:
  Mutex mu_;
  CondVar all_ended_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
  // Released and not Done() yet.
  size_t finishing_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdgrpc::internal
