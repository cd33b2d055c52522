// Epoch-based reclamation, so that readers of a published snapshot never take
// a lock: a reader announces the epoch it reads in (one store to its own cache
// line), and a retired snapshot is freed only once every reader that may
// still see it has finished. (std::atomic<std::shared_ptr> is not an option:
// libstdc++ implements its load with a spin lock.)
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

class EpochDomain {
 public:
  // The process-wide domain: each thread has one slot, shared by every
  // snapshot cell.
  static EpochDomain& Global();

  // This thread reads published pointers until the guard is destroyed.
  // Nestable; lock-free.
  class ReadGuard {
   public:
    ReadGuard();
    ~ReadGuard();
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;
  };

  // Runs `deleter` once every reader that started before this call has
  // finished. Call after replacing the published pointer.
  void Retire(std::function<void()> deleter);
  // Runs the deleters that are safe to run now (Retire() does this too).
  void Collect();
  // Retired deleters not run yet (tests).
  size_t pending();

  struct Slot;

 private:
  EpochDomain() = default;
  Slot* AcquireSlot();
  uint64_t MinActive() const;

  std::atomic<uint64_t> epoch_{1};
  // Slots in blocks that are only ever appended, so readers never lock.
  std::atomic<struct SlotBlock*> blocks_{nullptr};
  Mutex retire_mu_;
  std::vector<std::pair<uint64_t, std::function<void()>>> retired_ ABSL_GUARDED_BY(retire_mu_);
};

}  // namespace etcdgrpc::resolver::internal
