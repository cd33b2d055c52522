// Client-side health checking (ResolverOptions::health_checking): one
// grpc.health.v1.Health/Watch stream per checked endpoint, on the endpoint's
// own channel, with gRPC's callback API (no thread per endpoint); polling
// Check on the resolver's scheduler when the server does not implement Watch.
// Picks read the last status from one atomic. A check lives as long as a
// pick table (or a pick) holds it: its stream is cancelled when the endpoint
// leaves the service.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "etcdgrpc/resolver/balancer.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/resolver_metrics.h"

namespace etcdgrpc::resolver::internal {

class ViewCore;
class HealthChecker;
class HealthChecks;

// What a pick table holds: dropping the last one stops the check.
class HealthCheck {
 public:
  explicit HealthCheck(std::shared_ptr<HealthChecker> checker);
  ~HealthCheck();
  HealthCheck(const HealthCheck&) = delete;
  HealthCheck& operator=(const HealthCheck&) = delete;

  // An EndpointHealth; picks skip anything above kServing.
  [[nodiscard]] const std::atomic<uint8_t>& status() const;

 private:
  const std::shared_ptr<HealthChecker> checker_;
};

[[nodiscard]] inline bool SkippedForHealth(uint8_t status) {
  return status > static_cast<uint8_t>(EndpointHealth::kServing);
}

class HealthChecks : public std::enable_shared_from_this<HealthChecks> {
 public:
  // `scheduler` is used until Shutdown(); `check_interval` spaces Check
  // polls (and is their time-out).
  // `metrics`: where each check's state is shown (null: metrics off).
  HealthChecks(Scheduler* scheduler, absl::Duration check_interval,
               std::shared_ptr<ResolverMetrics> metrics = nullptr);

  // The check of `entry`'s server under `check_name` for `service` (shared
  // by the service's balancers); its problems go to `view`'s subscribers.
  // Null after Shutdown().
  [[nodiscard]] std::shared_ptr<HealthCheck> Get(const std::string& service,
                                                 const std::shared_ptr<ChannelEntry>& entry,
                                                 const std::string& check_name,
                                                 const std::weak_ptr<ViewCore>& view);
  // Before the scheduler stops (the Resolver's destruction): every check
  // ends and reads kUnknown again (no longer checked, so no longer skipped).
  void Shutdown();

  // Runs `task` after `delay` on the scheduler; false after Shutdown().
  bool PostAfter(absl::Duration delay, Scheduler::Task task);
  absl::Duration check_interval() const { return check_interval_; }

 private:
  const absl::Duration check_interval_;
  const std::shared_ptr<ResolverMetrics> metrics_;
  Mutex mu_;
  Scheduler* scheduler_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::weak_ptr<HealthCheck>> checks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<HealthChecker>> checkers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdgrpc::resolver::internal
