#include "resolver/internal/epoch.h"

#include <limits>

namespace etcdgrpc::resolver::internal {

struct alignas(64) EpochDomain::Slot {
  std::atomic<uint64_t> active{0};  // epoch being read in; 0 when not reading
  std::atomic<bool> taken{false};
  int depth = 0;  // nesting; touched by the owning thread only
};

struct SlotBlock {
  static constexpr int kSlots = 64;
  EpochDomain::Slot slots[kSlots];
  SlotBlock* next = nullptr;
};

namespace {

// Releases this thread's slot when the thread ends.
struct SlotOwner {
  EpochDomain::Slot* slot = nullptr;
  ~SlotOwner() {
    if (slot != nullptr) {
      slot->active.store(0, std::memory_order_release);
      slot->taken.store(false, std::memory_order_release);
    }
  }
};

thread_local SlotOwner this_thread_slot;

}  // namespace

EpochDomain& EpochDomain::Global() {
  static EpochDomain* domain = new EpochDomain();
  return *domain;
}

EpochDomain::Slot* EpochDomain::AcquireSlot() {
  for (SlotBlock* block = blocks_.load(std::memory_order_acquire); block != nullptr;
       block = block->next) {
    for (Slot& slot : block->slots) {
      bool expected = false;
      if (!slot.taken.load(std::memory_order_relaxed) &&
          slot.taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        return &slot;
      }
    }
  }
  // All taken: add a block (once per 64 concurrent threads).
  auto* block = new SlotBlock();
  block->slots[0].taken.store(true, std::memory_order_relaxed);
  SlotBlock* head = blocks_.load(std::memory_order_acquire);
  do {
    block->next = head;
  } while (!blocks_.compare_exchange_weak(head, block, std::memory_order_acq_rel));
  return &block->slots[0];
}

EpochDomain::ReadGuard::ReadGuard() {
  EpochDomain& domain = Global();
  SlotOwner& owner = this_thread_slot;
  if (owner.slot == nullptr) owner.slot = domain.AcquireSlot();
  Slot& slot = *owner.slot;
  if (slot.depth++ > 0) return;
  // seq_cst: the announcement must be visible to a writer's scan before this
  // thread reads the pointer the writer may be replacing.
  slot.active.store(domain.epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

EpochDomain::ReadGuard::~ReadGuard() {
  Slot& slot = *this_thread_slot.slot;
  if (--slot.depth > 0) return;
  slot.active.store(0, std::memory_order_release);
}

uint64_t EpochDomain::MinActive() const {
  uint64_t min = std::numeric_limits<uint64_t>::max();
  for (SlotBlock* block = blocks_.load(std::memory_order_acquire); block != nullptr;
       block = block->next) {
    for (const Slot& slot : block->slots) {
      const uint64_t active = slot.active.load(std::memory_order_seq_cst);
      if (active != 0 && active < min) min = active;
    }
  }
  return min;
}

void EpochDomain::Retire(std::function<void()> deleter) {
  // Readers that may still see the replaced pointer announced an epoch no
  // later than this one.
  const uint64_t epoch = epoch_.fetch_add(1, std::memory_order_seq_cst);
  {
    MutexLock lock(&retire_mu_);
    retired_.emplace_back(epoch, std::move(deleter));
  }
  Collect();
}

void EpochDomain::Collect() {
  std::vector<std::function<void()>> ready;
  {
    MutexLock lock(&retire_mu_);
    const uint64_t min_active = MinActive();
    auto keep = retired_.begin();
    for (auto& entry : retired_) {
      if (entry.first < min_active) {
        ready.push_back(std::move(entry.second));
      } else {
        *keep++ = std::move(entry);
      }
    }
    retired_.erase(keep, retired_.end());
  }
  for (auto& deleter : ready) deleter();  // outside the lock
}

size_t EpochDomain::pending() {
  MutexLock lock(&retire_mu_);
  return retired_.size();
}

}  // namespace etcdgrpc::resolver::internal
