// Picking an endpoint of a service for a call: round robin, pick first,
// smooth weighted round robin (metadata "weight"), power of two choices on
// in-flight calls, zone preference with fallback, metadata filters. Picks
// never take a lock; they read an immutable table rebuilt when the service's
// endpoints change.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/resolver/endpoint.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver {

enum class Policy {
  kRoundRobin,
  // The first healthy endpoint in key order; others only when it fails.
  kPickFirst,
  // Smooth weighted round robin over metadata "weight" (nginx's algorithm):
  // weights 5:1:1 give a a b a c a a, not a a a a a b c.
  kWeightedRoundRobin,
  // Two random endpoints, the one with fewer calls in flight.
  kPowerOfTwoChoices,
};

struct ETCDGRPC_EXPORT BalancerOptions {
  Policy policy = Policy::kRoundRobin;
  // Prefer endpoints whose metadata "zone" is this; use the others only when
  // none of these is healthy. Empty: no preference.
  std::string preferred_zone{};
  // Only endpoints whose metadata has all of these pairs (e.g. version=v2).
  std::map<std::string, std::string> require_metadata{};
  // How long Pick() waits for a first endpoint when the service has none.
  absl::Duration wait_for_endpoints = absl::Seconds(5);
};

namespace internal {
struct ChannelEntry;
struct PickSlot;
}  // namespace internal

// One picked endpoint and its channel. Move-only. Call Done() when the call
// finished (or let the destructor do it, as a success): it ends the in-flight
// count, and an UNAVAILABLE status marks the endpoint as failing, so picks
// skip it until its channel is ready again.
class ETCDGRPC_EXPORT PickResult {
 public:
  PickResult(std::shared_ptr<const internal::PickSlot> slot, bool counts_in_flight);
  PickResult(PickResult&&) noexcept;
  PickResult& operator=(PickResult&&) noexcept;
  ~PickResult();

  // The endpoint's channel, created on first use and shared by every pick of
  // that address.
  [[nodiscard]] std::shared_ptr<grpc::Channel> channel() const;
  [[nodiscard]] const Endpoint& endpoint() const { return *endpoint_; }
  void Done(const grpc::Status& status);
  // False for a moved-from pick; a pick stays valid after Done() (its channel
  // and endpoint still answer), like a Registration after Deregister().
  [[nodiscard]] bool valid() const { return entry_ != nullptr; }
  // A stub of generated service `S` on the picked channel.
  template <class S>
  [[nodiscard]] std::unique_ptr<typename S::Stub> NewStub() const {
    return S::NewStub(channel());
  }

 private:
  // One reference keeps the endpoint and its channel entry alive; the raw
  // pointers point into it.
  std::shared_ptr<const internal::PickSlot> slot_;
  const Endpoint* endpoint_ = nullptr;
  internal::ChannelEntry* entry_ = nullptr;
  bool counts_in_flight_ = false;
  bool done_ = false;
};

namespace internal {
class BalancerCore;
}  // namespace internal

// Picks endpoints of one service under one policy. Thread-safe; made by
// Resolver::Balance().
class ETCDGRPC_EXPORT Balancer {
 public:
  explicit Balancer(std::shared_ptr<internal::BalancerCore> core);
  ~Balancer();

  // Lock-free when the service has endpoints. With none, waits up to
  // BalancerOptions::wait_for_endpoints for one, then UNAVAILABLE naming the
  // service.
  [[nodiscard]] absl::StatusOr<PickResult> Pick();
  // The endpoints picks choose from now (after the metadata filter).
  [[nodiscard]] size_t eligible() const;

 private:
  std::shared_ptr<internal::BalancerCore> core_;
};

}  // namespace etcdgrpc::resolver
