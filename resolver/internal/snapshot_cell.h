// One published immutable value (an endpoint snapshot) that many threads read
// without a lock while a writer replaces it now and then. Readers load inside
// an EpochDomain::ReadGuard; the replaced value is freed once no reader can
// still see it.
#pragma once

#include <atomic>
#include <memory>

#include "resolver/internal/epoch.h"

namespace etcdgrpc::resolver::internal {

template <class T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::unique_ptr<const T> initial) : current_(initial.release()) {}
  // Only when no reader can be inside Load() any more.
  ~SnapshotCell() { delete current_.load(std::memory_order_acquire); }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Requires an EpochDomain::ReadGuard alive on this thread; the pointer is
  // valid until that guard ends.
  const T* Load() const { return current_.load(std::memory_order_seq_cst); }

  // Writers must not publish concurrently with each other.
  void Publish(std::unique_ptr<const T> next) {
    const T* old = current_.exchange(next.release(), std::memory_order_seq_cst);
    if (old != nullptr) EpochDomain::Global().Retire([old] { delete old; });
  }

 private:
  std::atomic<const T*> current_;
};

}  // namespace etcdgrpc::resolver::internal
