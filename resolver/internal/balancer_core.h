// The state behind a Balancer: the current pick table (lock-free reads),
// striped round-robin counters, and the wait for a first endpoint.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/service_view.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/health_checks.h"
#include "resolver/internal/outlier_detector.h"
#include "resolver/internal/pick_table.h"
#include "resolver/internal/resolver_metrics.h"
#include "resolver/internal/snapshot_cell.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::CondVar;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

class BalancerCore {
 public:
  // `health` and `check_name`: client health checks of the endpoints under
  // that grpc.health.v1 service name (null / unset: not checked).
  BalancerCore(std::string service, BalancerOptions options, std::shared_ptr<ChannelPool> pool,
               std::shared_ptr<HealthChecks> health = nullptr,
               std::optional<std::string> check_name = std::nullopt,
               std::shared_ptr<ResolverMetrics> metrics = nullptr);

  // A new snapshot of the service: rebuild and publish the table. Calls are
  // serialized by the caller (the view's listener calls never overlap).
  void Update(const EndpointSet& set);
  [[nodiscard]] absl::StatusOr<PickResult> Pick();
  // Pick() without the wait: nullopt when no endpoint is eligible.
  [[nodiscard]] std::optional<PickResult> TryPick();
  [[nodiscard]] size_t eligible() const;
  [[nodiscard]] std::vector<EndpointStats> endpoint_stats() const;
  // BalancedStub calls through this balancer (null handles when metrics are off).
  [[nodiscard]] const BalancedCallMetrics& call_metrics() const { return call_metrics_; }
  ~BalancerCore();
  // Follows `view`: a new table for each change of its endpoints.
  void Attach(std::shared_ptr<ServiceView> view);

 private:
  // Null when the table is empty.
  using SlotRef = std::shared_ptr<const PickSlot>;
  const SlotRef* Choose(const PickTable& table);
  const SlotRef* ChooseFrom(const PickTable& table, const std::vector<uint32_t>& group,
                            const std::vector<uint32_t>& weighted, bool healthy_only);
  uint64_t NextTicket();

  const std::string service_;
  const BalancerOptions options_;
  const std::shared_ptr<ChannelPool> pool_;
  const std::shared_ptr<HealthChecks> health_;
  const std::optional<std::string> check_name_;
  // Null when outlier ejection is off.
  const std::shared_ptr<OutlierDetector> detector_;
  SnapshotCell<PickTable> table_;
  // Null when metrics are off.
  const std::shared_ptr<ResolverMetrics> metrics_;
  const BalancedCallMetrics call_metrics_;

  class Adapter : public ServiceListener {
   public:
    explicit Adapter(BalancerCore* core) : core_(core) {}
    void OnUpdate(const EndpointSet& endpoints, const EndpointChanges&) override {
      core_->Update(endpoints);
    }

   private:
    BalancerCore* core_;
  };
  Adapter adapter_{this};
  std::shared_ptr<ServiceView> view_;
  // Where the health checks report problems; set before the first update.
  std::weak_ptr<ViewCore> view_core_;
  ServiceView::Subscription subscription_;

  // Round-robin position, striped per thread so that threads picking at the
  // same time do not fight over one cache line.
  struct alignas(64) Stripe {
    std::atomic<uint64_t> next{0};
  };
  static constexpr int kStripes = 8;
  Stripe stripes_[kStripes];

  Mutex wait_mu_;
  // Notified whenever has_endpoints_ changes.
  CondVar endpoints_changed_;
  bool has_endpoints_ ABSL_GUARDED_BY(wait_mu_) = false;
};

}  // namespace etcdgrpc::resolver::internal
