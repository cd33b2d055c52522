// The immutable table a Balancer picks from: the eligible endpoints of one
// snapshot with their channels, grouped by zone preference, and the smooth
// weighted round-robin order precomputed, so that a pick is a few loads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcdgrpc/metrics.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/endpoint.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/health_checks.h"
#include "resolver/internal/outlier_detector.h"

namespace etcdgrpc::resolver::internal {

struct PickSlot {
  std::shared_ptr<const Endpoint> endpoint;
  std::shared_ptr<ChannelEntry> channel;
  // Outlier ejection (null when off): the endpoint's state in its
  // balancer's detector.
  std::shared_ptr<OutlierState> outlier = nullptr;
  std::shared_ptr<OutlierDetector> detector = nullptr;
  // Client health checking (null when off for the service).
  std::shared_ptr<HealthCheck> health = nullptr;
  const std::atomic<uint8_t>* health_status = nullptr;
  // Picks of this endpoint by this balancer (a null handle when metrics are off).
  Counter picks{};
};

struct PickTable {
  std::string service;
  int64_t revision = 0;
  // Eligible endpoints, key order. Shared so that a pick holds one reference
  // (one atomic add), not one per member.
  std::vector<std::shared_ptr<const PickSlot>> slots;
  // Indices into `slots`: the preferred zone's (all of them without a
  // preference) and the others.
  std::vector<uint32_t> preferred;
  std::vector<uint32_t> others;
  // Smooth weighted round-robin order over `preferred` and over `others`.
  std::vector<uint32_t> preferred_wrr;
  std::vector<uint32_t> others_wrr;
};

// Builds the table of `set` under `options`; `slot_for` makes the slot of
// an eligible endpoint. Not eligible: endpoints the metadata filter rejects,
// and those whose record says metadata "health" = "NOT_SERVING" (a server
// marked so instead of deregistered).
[[nodiscard]] PickTable BuildPickTable(
    const EndpointSet& set, const BalancerOptions& options,
    const std::function<PickSlot(const std::shared_ptr<const Endpoint>&)>& slot_for);

// One period of nginx's smooth weighted round robin over `members` with
// `weights` (parallel vectors). Weights are divided by their gcd, and scaled
// down when the period would exceed `max_period`.
[[nodiscard]] std::vector<uint32_t> SmoothWeightedOrder(const std::vector<uint32_t>& members,
                                                        std::vector<int> weights,
                                                        int max_period = 4096);

}  // namespace etcdgrpc::resolver::internal
