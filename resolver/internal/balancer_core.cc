#include "resolver/internal/balancer_core.h"

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "resolver/internal/epoch.h"
#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver::internal {
namespace {

// A per-thread xorshift64* generator: random enough to spread choices, with
// no shared state.
uint64_t NextRandom() {
  thread_local uint64_t state =
      std::hash<std::thread::id>()(std::this_thread::get_id()) * 0x9E3779B97F4A7C15ULL | 1;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

// Threads take stripes in turn. (Hashing the thread id would not do: it is
// pthread_self(), page-aligned, so every thread landed on stripe 0.)
size_t ThisThreadStripe(size_t stripes) {
  static std::atomic<size_t> next_thread{0};
  thread_local const size_t stripe = next_thread.fetch_add(1, std::memory_order_relaxed);
  return stripe % stripes;
}

// Not failing, not skipped by its health check, not ejected. The clock is
// read only for an ejected endpoint.
bool Healthy(const PickSlot& slot) {
  if (slot.channel->failing.load(std::memory_order_relaxed)) return false;
  if (slot.health_status != nullptr &&
      SkippedForHealth(slot.health_status->load(std::memory_order_relaxed))) {
    return false;
  }
  return slot.outlier == nullptr || !OutlierDetector::MaybeEjected(*slot.outlier) ||
         !OutlierDetector::Ejected(*slot.outlier, ::etcdgrpc::internal::MonoNow());
}

}  // namespace

BalancerCore::BalancerCore(std::string service, BalancerOptions options,
                           std::shared_ptr<ChannelPool> pool, std::shared_ptr<HealthChecks> health,
                           std::optional<std::string> check_name,
                           std::shared_ptr<ResolverMetrics> metrics)
    : service_(std::move(service)),
      options_(std::move(options)),
      pool_(std::move(pool)),
      health_(check_name.has_value() ? std::move(health) : nullptr),
      check_name_(std::move(check_name)),
      detector_(options_.outlier_ejection.enabled
                    ? std::make_shared<OutlierDetector>(options_.outlier_ejection,
                                                        ::etcdgrpc::internal::MonoNow())
                    : nullptr),
      table_(std::make_unique<PickTable>()),
      metrics_(std::move(metrics)),
      call_metrics_(metrics_ != nullptr ? metrics_->Calls(service_) : BalancedCallMetrics{}) {}

BalancerCore::~BalancerCore() {
  // No update may run while the members below go away.
  subscription_.Cancel();
}

void BalancerCore::Attach(std::shared_ptr<ServiceView> view) {
  view_ = std::move(view);
  view_core_ = view_->core().weak_from_this();
  // Updates run on the watch stream's thread: building a table never blocks.
  subscription_ = ServiceView::Subscription(
      view_->core().shared_from_this(), view_->core().Subscribe(&adapter_, /*inline_calls=*/true));
}

void BalancerCore::Update(const EndpointSet& set) {
  std::vector<std::string> addresses;
  auto table = std::make_unique<PickTable>(
      BuildPickTable(set, options_, [&](const std::shared_ptr<const Endpoint>& endpoint) {
        PickSlot slot{.endpoint = endpoint, .channel = pool_->Get(endpoint->address())};
        if (metrics_ != nullptr) slot.picks = metrics_->Picks(service_, endpoint->address());
        if (detector_ != nullptr) {
          slot.outlier = detector_->StateFor(
              endpoint->address(),
              metrics_ != nullptr ? metrics_->Ejections(service_, endpoint->address()) : Counter());
          slot.detector = detector_;
          addresses.push_back(endpoint->address());
        }
        if (health_ != nullptr) {
          slot.health = health_->Get(service_, slot.channel, *check_name_, view_core_);
          if (slot.health != nullptr) slot.health_status = &slot.health->status();
        }
        return slot;
      }));
  if (detector_ != nullptr) detector_->Retain(addresses);
  const bool any = !table->slots.empty();
  table_.Publish(std::move(table));
  MutexLock lock(&wait_mu_);
  has_endpoints_ = any;
  endpoints_changed_.Notify();
}

uint64_t BalancerCore::NextTicket() {
  return stripes_[ThisThreadStripe(kStripes)].next.fetch_add(1, std::memory_order_relaxed) +
         ThisThreadStripe(kStripes);
}

const BalancerCore::SlotRef* BalancerCore::ChooseFrom(const PickTable& table,
                                                      const std::vector<uint32_t>& group,
                                                      const std::vector<uint32_t>& weighted,
                                                      bool healthy_only) {
  const size_t n = group.size();
  if (n == 0) return nullptr;
  auto usable = [&](uint32_t index) -> const SlotRef* {
    const PickSlot& slot = *table.slots[index];
    return !healthy_only || Healthy(slot) ? &table.slots[index] : nullptr;
  };
  switch (options_.policy) {
    case Policy::kPickFirst:
      for (uint32_t index : group) {
        if (const SlotRef* slot = usable(index)) return slot;
      }
      return nullptr;
    case Policy::kWeightedRoundRobin: {
      // 32-bit modulo: a 64-bit division costs more than the rest of a pick.
      const auto ticket = static_cast<uint32_t>(NextTicket());
      const auto size = static_cast<uint32_t>(weighted.size());
      for (uint32_t i = 0; i < size; ++i) {
        if (const SlotRef* slot = usable(weighted[(ticket + i) % size])) return slot;
      }
      return nullptr;
    }
    case Policy::kPowerOfTwoChoices: {
      if (n >= 2) {
        // Two distinct members, uniformly.
        // Two distinct members by multiply-shift (no division).
        const uint64_t random = NextRandom();
        const size_t i = ((random & 0xffffffff) * n) >> 32;
        size_t j = ((random >> 32) * (n - 1)) >> 32;
        if (j >= i) ++j;
        const SlotRef* first = usable(group[i]);
        const SlotRef* second = usable(group[j]);
        if (first != nullptr && second != nullptr) {
          return (*first)->channel->in_flight.load(std::memory_order_relaxed) <=
                         (*second)->channel->in_flight.load(std::memory_order_relaxed)
                     ? first
                     : second;
        }
        if (first != nullptr || second != nullptr) return first != nullptr ? first : second;
      }
      [[fallthrough]];  // one member, or both samples failing: go round
    }
    case Policy::kRoundRobin: {
      const auto ticket = static_cast<uint32_t>(NextTicket());
      const auto size = static_cast<uint32_t>(n);
      for (uint32_t i = 0; i < size; ++i) {
        if (const SlotRef* slot = usable(group[(ticket + i) % size])) return slot;
      }
      return nullptr;
    }
  }
  return nullptr;
}

const BalancerCore::SlotRef* BalancerCore::Choose(const PickTable& table) {
  if (table.slots.empty()) return nullptr;
  // Healthy endpoints of the preferred zone, then healthy others; when every
  // endpoint is failing, pick anyway (the call may find it recovered).
  for (bool healthy_only : {true, false}) {
    if (const SlotRef* slot =
            ChooseFrom(table, table.preferred, table.preferred_wrr, healthy_only)) {
      return slot;
    }
    if (const SlotRef* slot = ChooseFrom(table, table.others, table.others_wrr, healthy_only)) {
      return slot;
    }
  }
  return nullptr;
}

std::optional<PickResult> BalancerCore::TryPick() {
  EpochDomain::ReadGuard guard;
  const PickTable& table = *table_.Load();
  if (const SlotRef* slot = Choose(table)) {
    return PickResult(*slot, options_.policy == Policy::kPowerOfTwoChoices);
  }
  return std::nullopt;
}

absl::StatusOr<PickResult> BalancerCore::Pick() {
  std::optional<absl::Time> deadline;  // only read the clock when waiting
  while (true) {
    if (std::optional<PickResult> pick = TryPick()) return *std::move(pick);
    if (!deadline.has_value()) {
      deadline = ::etcdgrpc::internal::MonoNow() + options_.wait_for_endpoints;
    }
    // No endpoint: wait for one (the only path that blocks).
    MutexLock lock(&wait_mu_);
    if (!endpoints_changed_.WaitUntil(wait_mu_, *deadline, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return has_endpoints_;
        })) {
      return absl::UnavailableError(
          absl::StrCat("no endpoint of service \"", service_, "\" within ",
                       absl::FormatDuration(options_.wait_for_endpoints),
                       options_.require_metadata.empty() ? "" : " (after the metadata filter)"));
    }
  }
}

std::vector<EndpointStats> BalancerCore::endpoint_stats() const {
  std::vector<std::shared_ptr<const PickSlot>> slots;
  {
    EpochDomain::ReadGuard guard;
    slots = table_.Load()->slots;
  }
  const absl::Time now = ::etcdgrpc::internal::MonoNow();
  std::vector<EndpointStats> all;
  all.reserve(slots.size());
  for (const auto& slot : slots) {
    EndpointStats stats{.key = slot->endpoint->key, .address = slot->endpoint->address()};
    stats.channel_failing = slot->channel->failing.load(std::memory_order_relaxed);
    if (slot->health_status != nullptr) {
      stats.health = static_cast<EndpointHealth>(slot->health_status->load());
    }
    if (const OutlierState* state = slot->outlier.get()) {
      const int64_t until = state->ejected_until_ns.load(std::memory_order_acquire);
      stats.ejected = until != 0 && absl::ToUnixNanos(now) < until;
      if (stats.ejected) stats.ejected_for = absl::FromUnixNanos(until) - now;
      stats.consecutive_failures = state->consecutive_failures.load(std::memory_order_relaxed);
      stats.failures = state->failures.load(std::memory_order_relaxed);
      stats.successes = state->calls.load(std::memory_order_relaxed) - stats.failures;
      slot->detector->Counts(*state, stats.ejection_multiplier, stats.ejections);
    }
    all.push_back(std::move(stats));
  }
  return all;
}

size_t BalancerCore::eligible() const {
  EpochDomain::ReadGuard guard;
  return table_.Load()->slots.size();
}

}  // namespace etcdgrpc::resolver::internal
