// One lease generation of a registration: keeps its lease on the client's
// shared keep-alive stream and watches its key on the shared watch stream,
// and tells the owner when either says the registration is gone. A new
// session is made for every (re)registration; a stopped one stays silent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::registry::internal {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

class RegistrationCore;

class Session final : public LeaseListener, public WatchListener {
 public:
  Session(std::weak_ptr<RegistrationCore> owner, uint64_t generation, int64_t lease_id,
          std::string key);

  // Keeps the lease (its first deadline is `granted_at` + `ttl`) and watches
  // the key from `watch_from` (the revision after our Put).
  [[nodiscard]] absl::Status Start(Client& client, absl::Duration ttl, absl::Time granted_at,
                                   int64_t watch_from);
  // Watches again from `from` after the watch ended (etcd cancelled it, or
  // it was compacted and the key was found still ours).
  [[nodiscard]] absl::Status Rewatch(Client& client, int64_t from);
  // The revision to watch from again after the watch ended at
  // `next_revision` (0: it never got going).
  [[nodiscard]] int64_t ResumeFrom(int64_t next_revision) const;
  // Stops the keep-alive and the watch; waits for a listener call of either
  // in progress. Nothing reaches the owner afterwards.
  void Stop();

  uint64_t generation() const { return generation_; }
  int64_t lease_id() const { return lease_id_; }

  // LeaseListener (keep-alive stream or timer thread).
  void OnLost(int64_t lease_id, const LeaseLoss& loss) override;
  // WatchListener (watch stream thread).
  void OnEvents(const WatchEvents& batch) override;
  void OnEnd(const WatchEnd& end) override;

 private:
  const std::weak_ptr<RegistrationCore> owner_;
  const uint64_t generation_;
  const int64_t lease_id_;
  const std::string key_;

  mutable Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Where the current watch started.
  int64_t watch_from_ ABSL_GUARDED_BY(mu_) = 0;
  KeptLease kept_ ABSL_GUARDED_BY(mu_);
  WatchHandle watch_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::registry::internal
