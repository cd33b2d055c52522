#include "resolver/internal/pick_table.h"

#include <algorithm>
#include <numeric>

#include "resolver/internal/serving_mark.h"

namespace etcdgrpc::resolver::internal {
namespace {

bool Matches(const Endpoint& endpoint, const BalancerOptions& options) {
  if (MarkedNotServing(endpoint)) return false;
  for (const auto& [key, value] : options.require_metadata) {
    auto it = endpoint.instance.metadata.find(key);
    if (it == endpoint.instance.metadata.end() || it->second != value) return false;
  }
  return true;
}

std::vector<uint32_t> WeightedOrder(const std::vector<std::shared_ptr<const PickSlot>>& slots,
                                    const std::vector<uint32_t>& members) {
  std::vector<int> weights;
  weights.reserve(members.size());
  for (uint32_t index : members) weights.push_back(slots[index]->endpoint->weight());
  return SmoothWeightedOrder(members, std::move(weights));
}

}  // namespace

std::vector<uint32_t> SmoothWeightedOrder(const std::vector<uint32_t>& members,
                                          std::vector<int> weights, int max_period) {
  if (members.empty()) return {};
  int divisor = 0;
  for (int weight : weights) divisor = std::gcd(divisor, std::max(weight, 1));
  int64_t period = 0;
  for (int& weight : weights) {
    weight = std::max(weight, 1) / divisor;
    period += weight;
  }
  if (period > max_period) {
    // Keep the proportions as well as a bounded period allows.
    const double scale = static_cast<double>(max_period) / static_cast<double>(period);
    period = 0;
    for (int& weight : weights) {
      weight = std::max(1, static_cast<int>(weight * scale));
      period += weight;
    }
  }
  std::vector<uint32_t> order;
  order.reserve(static_cast<size_t>(period));
  std::vector<int64_t> current(weights.size(), 0);
  for (int64_t step = 0; step < period; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= period;
    order.push_back(members[best]);
  }
  return order;
}

PickTable BuildPickTable(
    const EndpointSet& set, const BalancerOptions& options,
    const std::function<PickSlot(const std::shared_ptr<const Endpoint>&)>& slot_for) {
  PickTable table;
  table.service = set.service;
  table.revision = set.revision;
  for (const auto& endpoint : set.endpoints) {
    if (!Matches(*endpoint, options)) continue;
    const auto index = static_cast<uint32_t>(table.slots.size());
    table.slots.push_back(std::make_shared<const PickSlot>(slot_for(endpoint)));
    if (options.preferred_zone.empty() || endpoint->zone() == options.preferred_zone) {
      table.preferred.push_back(index);
    } else {
      table.others.push_back(index);
    }
  }
  if (options.policy == Policy::kWeightedRoundRobin) {
    table.preferred_wrr = WeightedOrder(table.slots, table.preferred);
    table.others_wrr = WeightedOrder(table.slots, table.others);
  }
  return table;
}

}  // namespace etcdgrpc::resolver::internal
