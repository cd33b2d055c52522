// The shared state behind a Canceller: the flag, and the waits to wake when
// it is set.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace etcdgrpc::concurrency::internal {

struct CancelState {
  ::etcdgrpc::internal::Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 0;
  // Called (outside mu) when cancelled; each must only set a flag and notify.
  std::map<uint64_t, std::function<void()>> wakers ABSL_GUARDED_BY(mu);

  // Registers `wake`; returns 0 (without registering) when already cancelled.
  uint64_t Add(std::function<void()> wake) {
    ::etcdgrpc::internal::MutexLock lock(&mu);
    if (cancelled) return 0;
    wakers[++next_id] = std::move(wake);
    return next_id;
  }
  void Remove(uint64_t id) {
    ::etcdgrpc::internal::MutexLock lock(&mu);
    wakers.erase(id);
  }
};

}  // namespace etcdgrpc::concurrency::internal
