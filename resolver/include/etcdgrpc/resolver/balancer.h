// Picking an endpoint of a service for a call: round robin, pick first,
// smooth weighted round robin (metadata "weight"), power of two choices on
// in-flight calls, zone preference with fallback, metadata filters, outlier
// ejection (docs/balancing.md). Picks never take a lock; they read an
// immutable table rebuilt when the service's endpoints change.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// Envoy's outlier detection on the outcomes that picks report through
// PickResult::Done(): an endpoint is ejected (skipped by picks) after
// `consecutive_failures` failures in a row, or when at least
// `failure_rate_minimum_calls` calls in one `interval` failed at
// `failure_rate_threshold` or more. The n-th ejection lasts
// n x base_ejection_time, capped at max_ejection_time; the count n drops by
// one for each interval the endpoint spends not ejected. No more than
// floor(max_ejected_share x endpoints) are ejected at once: a candidate over
// that share stays in. See docs/balancing.md.
struct ETCDGRPC_EXPORT OutlierEjection {
  bool enabled = true;
  // Codes that count as the endpoint's failure; every other code (OK,
  // NOT_FOUND, INVALID_ARGUMENT, UNIMPLEMENTED, ...: the application's
  // answers) counts as a success, except CANCELLED (unless listed here),
  // which counts as nothing: the caller gave up (a losing hedge, a pick the
  // call helper did not use). The defaults are the codes of a server that
  // fails rather than answers (Envoy's consecutive_5xx: the gRPC statuses
  // that map to 5xx): a timeout, no connection, overload, and UNKNOWN,
  // INTERNAL, DATA_LOSS (an exception, a crash in the handler, corruption).
  std::vector<grpc::StatusCode> failure_codes = {
      grpc::StatusCode::UNAVAILABLE,        grpc::StatusCode::DEADLINE_EXCEEDED,
      grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::UNKNOWN,
      grpc::StatusCode::INTERNAL,           grpc::StatusCode::DATA_LOSS};
  // Envoy's consecutive_5xx (default 5). 0: no ejection on a run of failures.
  int consecutive_failures = 5;
  // Envoy's failure_percentage_threshold / _request_volume (85 %, 50 calls)
  // over `interval` (Envoy's 10 s sweep). A threshold of 0 turns it off.
  double failure_rate_threshold = 0.85;
  int failure_rate_minimum_calls = 50;
  absl::Duration interval = absl::Seconds(10);
  // Envoy's base_ejection_time (30 s) and max_ejection_time (300 s).
  absl::Duration base_ejection_time = absl::Seconds(30);
  absl::Duration max_ejection_time = absl::Seconds(300);
  // Envoy's max_ejection_percent is 10 %; a client's sets are small (10 %
  // of 3 ejects nobody), so half: one of 2 or 3, two of 4 or 5.
  double max_ejected_share = 0.5;
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
  // Skipping endpoints whose calls fail (on by default).
  OutlierEjection outlier_ejection{};
};

// What the client-side health check last heard from an endpoint
// (ResolverOptions::health_checking).
enum class EndpointHealth {
  // Not checked (off for this service), or no answer yet.
  kUnknown,
  kServing,
  // Skipped by picks.
  kNotServing,
  // The server does not know the health-check service name; skipped.
  kServiceUnknown,
  // The health check's stream or poll failed (the server is down or its
  // health service fails); skipped until it answers again.
  kUnreachable,
};

// One endpoint as a balancer sees it, for monitoring and tests.
struct ETCDGRPC_EXPORT EndpointStats {
  std::string key;
  std::string address;
  // Skipped by picks now because of its calls' failures.
  bool ejected = false;
  // How long the ejection still lasts (zero when not ejected).
  absl::Duration ejected_for = absl::ZeroDuration();
  // Ejections since the balancer first saw the endpoint.
  int ejections = 0;
  // The multiplier of the next ejection's time (see OutlierEjection).
  int ejection_multiplier = 0;
  int consecutive_failures = 0;
  // Outcomes reported through PickResult::Done since the balancer first saw
  // the endpoint.
  int64_t successes = 0;
  int64_t failures = 0;
  // Its channel is in TRANSIENT_FAILURE, or its last call was UNAVAILABLE.
  bool channel_failing = false;
  EndpointHealth health = EndpointHealth::kUnknown;
};

namespace internal {
struct ChannelEntry;
struct PickSlot;
}  // namespace internal

// One picked endpoint and its channel. Move-only. Call Done() when the call
// finished: it ends the in-flight count (the destructor does that much for a
// pick never reported, which then counts as no outcome at all); the status
// counts for the endpoint's outlier ejection
// (BalancerOptions::outlier_ejection), and UNAVAILABLE also marks its
// channel as failing, so picks skip it until the channel is ready again.
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

  // Done() with `status`, or (null) only the in-flight count.
  void Finish(const grpc::Status* status);
};

class Balancer;
namespace internal {
class BalancerCore;
// Pick() without the wait: nullopt at once when no endpoint is eligible. For
// the call engine, whose threads (the call timer, gRPC's callback threads)
// must never block; it polls instead.
[[nodiscard]] std::optional<PickResult> PickNow(Balancer& balancer);
// A BalancedStub call through `balancer` finished after `attempts` attempts (its metrics).
void RecordBalancedCall(Balancer& balancer, int attempts);
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
  // The eligible endpoints in key order, with their ejection and health state.
  [[nodiscard]] std::vector<EndpointStats> endpoint_stats() const;

 private:
  friend std::optional<PickResult> internal::PickNow(Balancer& balancer);
  friend void internal::RecordBalancedCall(Balancer& balancer, int attempts);
  std::shared_ptr<internal::BalancerCore> core_;
};

}  // namespace etcdgrpc::resolver
