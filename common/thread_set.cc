#include "common/thread_set.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace etcdgrpc::internal {

void ThreadSet::Start(absl::AnyInvocable<void() &&> fn) {
  auto member = std::make_unique<Member>();
  Member* raw = member.get();
  MutexLock lock(&mu_);
  ReapLocked();
  members_.push_back(std::move(member));
  raw->thread = std::thread([raw, fn = std::move(fn)]() mutable {
    std::move(fn)();
    raw->finished.store(true, std::memory_order_release);
  });
}

void ThreadSet::ReapLocked() {
  for (auto it = members_.begin(); it != members_.end();) {
    if ((*it)->finished.load(std::memory_order_acquire)) {
      // It has returned from its function: the join is immediate.
      (*it)->thread.join();
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
}

void ThreadSet::ReapFinished() {
  MutexLock lock(&mu_);
  ReapLocked();
}

void ThreadSet::JoinAll() {
  std::list<std::unique_ptr<Member>> members;
  {
    MutexLock lock(&mu_);
    members.swap(members_);
  }
  for (auto& member : members) {
    if (!member->thread.joinable()) continue;
    if (member->thread.get_id() == std::this_thread::get_id()) {
      std::fprintf(stderr,
                   "etcdgrpc: a Client was destroyed from inside one of its own callbacks; "
                   "that would deadlock\n");
      std::abort();
    }
    member->thread.join();
  }
}

size_t ThreadSet::size() const {
  MutexLock lock(&mu_);
  return members_.size();
}

}  // namespace etcdgrpc::internal
