// Service discovery on the registry: a live, lock-free view of each service's
// endpoints (one Range, then the client's shared watch stream), and balancers
// that pick an endpoint and its channel for each call.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/balancing_channel.h"
#include "etcdgrpc/resolver/service_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace etcdgrpc::resolver {

// Client-side health checking with gRPC's health protocol
// (grpc.health.v1.Health/Watch on each endpoint's channel, Check polled when
// a server does not implement Watch): picks skip endpoints that answer
// NOT_SERVING or SERVICE_UNKNOWN, or whose check fails (server down). See
// docs/balancing.md.
struct ETCDGRPC_EXPORT HealthChecking {
  enum class Scope {
    kOff,
    // Every service this resolver balances.
    kAllServices,
    // Only the services listed in `check_names`.
    kListedServices,
  };
  Scope scope = Scope::kOff;
  // The grpc.health.v1 service name asked for each registry service. A
  // service not listed is checked (under kAllServices) with "": the server
  // as a whole, which every server with gRPC's default health service
  // answers (the registry's service name is rarely the gRPC service's full
  // name, e.g. "greeter" for "helloworld.Greeter").
  std::map<std::string, std::string> check_names{};
  // Check polls (servers without Watch): their interval and time-out.
  absl::Duration check_interval = absl::Seconds(1);
};

// Protection against a mass disappearance: when more than `max_vanished_share`
// of a service's endpoints vanish in one update, the view keeps serving the
// vanished endpoints (their last records) and warns through
// ServiceListener::OnProblem, until the set recovers (no more than that share
// missing any more, or at least (1 - share) x the set's size live records,
// whatever their keys) or `max_hold` has passed. See docs/balancing.md.
struct ETCDGRPC_EXPORT MassDisappearance {
  // Unset: as the codec says (Codec::protects_against_mass_disappearance():
  // on for Kratos, which refuses to publish an empty set; off for the native
  // and naming codecs).
  std::optional<bool> enabled = std::nullopt;
  double max_vanished_share = 0.5;
  // InfiniteDuration: until the set recovers.
  absl::Duration max_hold = absl::Minutes(1);
};

struct ETCDGRPC_EXPORT ResolverOptions {
  // Root of the registry's keys; unset: the codec's default.
  std::optional<std::string> prefix = std::nullopt;
  // How records are laid out (native, Kratos, Go naming).
  std::shared_ptr<const registry::Codec> codec = registry::NativeCodec();
  // For the endpoints' channels; default: insecure.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials = nullptr;
  // For the endpoints' channels; default: reconnect backoff 100 ms to 1 s.
  std::optional<grpc::ChannelArguments> channel_arguments = std::nullopt;
  // How often channels' connectivity is polled to skip failing endpoints.
  absl::Duration health_poll_interval = absl::Milliseconds(200);
  // Client-side gRPC health checks of the endpoints (off by default).
  HealthChecking health_checking{};
  MassDisappearance mass_disappearance{};
  // --- metrics (issue 16) ---
  // Where the resolver records endpoints per service, picks, ejections and health per endpoint,
  // and BalancedStub calls, attempts and retries (docs/metrics.md). Null (the default): off.
  std::shared_ptr<MetricsRegistry> metrics = nullptr;
};

namespace internal {
class ResolverCore;
}  // namespace internal

// Thread-safe. One background thread (re-lists, re-watches, channel health
// polls) and one for subscribers' listener calls (plus one per listener
// blocked past the client's slow_listener_handoff); no thread per service.
//
// Lifetimes: the Resolver holds a Client::Share() handle, and views,
// balancers, subscriptions and picks hold what they use, so any of them may
// be destroyed in any order. When the Client is destroyed, views stop
// following their services: they keep their last snapshot (balancers keep
// picking from it) and subscribers hear OnEnd(CANCELLED "the client was
// closed ...").
//
// Outages: a view changes only on etcd's answers. While etcd is unreachable
// or has no quorum it keeps its last endpoints (the watch resumes from the
// next revision when etcd is back); it never publishes an empty set for that
// reason. A watch that etcd ends (other than for a compaction, which re-lists)
// is started again from the next revision with backoff (100 ms doubling to
// 5 s), reported through OnProblem.
class ETCDGRPC_EXPORT Resolver {
 public:
  explicit Resolver(Client& client, const ResolverOptions& options = {});
  // Stops every view: views, balancers and picks still held keep their last
  // snapshot; subscribers hear OnEnd(CANCELLED "the resolver was
  // destroyed"). Waits for listener calls in progress; may be called from
  // inside one.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The view of `service` (shared when asked again): lists the service at a
  // revision R, then follows it from R + 1. Fails if the first listing fails
  // (e.g. etcd unreachable) or the name is invalid.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<ServiceView>> Watch(std::string_view service);
  // A balancer over the view of `service`. InvalidArgument for outlier
  // ejection options out of range (negative counts or times, a share or
  // rate outside [0, 1]).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<Balancer>> Balance(std::string_view service,
                                                                  BalancerOptions options = {});
  // Channels alive in the pool (tests).
  [[nodiscard]] size_t channels() const;

  // --- balancing channel (issue 15) ---
  // A grpc::Channel over the IP addresses of `service` with gRPC's
  // round_robin, made again when they change (see BalancingChannel and
  // docs/balancing-channel.md). INVALID_ARGUMENT for bad options;
  // FAILED_PRECONDITION, naming them, when endpoints of the service have
  // host names (an ipv4:/ipv6: target takes IP addresses only); fails as
  // Watch() does. Made with ResolverOptions' credentials and channel
  // arguments (its service config replaced by the channel's own).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<BalancingChannel>> Channel(
      std::string_view service, const ChannelOptions& options = {});
  // --- end balancing channel ---

 private:
  std::shared_ptr<internal::ResolverCore> core_;
};

}  // namespace etcdgrpc::resolver
