#include "etcdgrpc/resolver/resolver.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/listener_runner.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "resolver/internal/balancer_core.h"
#include "resolver/internal/channel_core.h"
#include "resolver/internal/channel_pool.h"
#include "resolver/internal/channel_target.h"
#include "resolver/internal/health_checks.h"
#include "resolver/internal/resolver_metrics.h"
#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver {
namespace internal {

// What a Resolver owns. Views, balancers and picks may outlive it: they
// hold what they use (the client handle, the channel pool, the runner) and
// use the scheduler only until the resolver stops them.
class ResolverCore {
 public:
  ResolverCore(Client& client, const ResolverOptions& options)
      : client_(client.Share()),
        codec_(options.codec != nullptr ? options.codec : registry::NativeCodec()),
        prefix_(options.prefix.value_or(std::string(codec_->default_prefix()))),
        pool_(std::make_shared<ChannelPool>(
            options.channel_credentials != nullptr ? options.channel_credentials
                                                   : grpc::InsecureChannelCredentials(),
            options.channel_arguments.value_or(DefaultArguments()), options.health_poll_interval)),
        runner_(::etcdgrpc::internal::ListenerRunner::Create(
            client_->options().slow_listener_handoff, &scheduler_)),
        health_checking_(options.health_checking),
        metrics_(ResolverMetrics::Create(options.metrics)),
        health_(std::make_shared<HealthChecks>(&scheduler_, options.health_checking.check_interval,
                                               metrics_)),
        hold_{.enabled = options.mass_disappearance.enabled.value_or(
                  codec_->protects_against_mass_disappearance()),
              .share = options.mass_disappearance.max_vanished_share,
              .max_hold = options.mass_disappearance.max_hold} {
    ChannelPool::StartPolling(pool_, &scheduler_);
  }

  ~ResolverCore() {
    std::vector<std::shared_ptr<ViewCore>> views;
    {
      MutexLock lock(&mu_);
      for (auto& [service, weak] : views_) {
        if (auto view = weak.lock()) views.push_back(std::move(view));
      }
      views_.clear();
    }
    // Outside the lock: stopping a view waits for its listener calls in
    // progress, which may call into this resolver.
    for (const auto& view : views) view->Stop(absl::CancelledError("the resolver was destroyed"));
    // Health checks end (they post their retries and polls on the scheduler).
    health_->Shutdown();
    // The runner before the scheduler: the scheduler hands the runner's
    // queue on while a listener blocks. Then nothing runs on either.
    runner_->Shutdown();
    scheduler_.Shutdown();
  }

  absl::StatusOr<std::shared_ptr<ServiceView>> Watch(std::string_view service) {
    // The same rules as for registering (not empty, no '/', UTF-8).
    // Built in one initialization: assigning the short literals to the
    // members raises a gcc 12 -Wrestrict false positive at -O3 (GCC bug 105651).
    const registry::ServiceInstance probe{
        .service = std::string(service), .id = std::string("x"), .address = std::string("x:1")};
    if (absl::Status valid = registry::ValidateInstance(probe); !valid.ok()) return valid;
    MutexLock lock(&mu_);
    std::weak_ptr<ViewCore>& weak = views_[std::string(service)];
    std::shared_ptr<ViewCore> view = weak.lock();
    if (view == nullptr) {
      view = std::make_shared<ViewCore>(
          client_, codec_, prefix_, std::string(service), &scheduler_, runner_, hold_,
          metrics_ != nullptr ? metrics_->Endpoints(std::string(service)) : Gauge());
      if (absl::Status started = view->Start(); !started.ok()) return started;
      weak = view;
    }
    return std::make_shared<ServiceView>(view);
  }

  absl::StatusOr<std::shared_ptr<Balancer>> Balance(std::string_view service,
                                                    BalancerOptions options) {
    if (absl::Status valid = Validate(options.outlier_ejection); !valid.ok()) return valid;
    absl::StatusOr<std::shared_ptr<ServiceView>> view = Watch(service);
    if (!view.ok()) return view.status();
    auto core = std::make_shared<BalancerCore>(std::string(service), std::move(options), pool_,
                                               health_, CheckName(std::string(service)), metrics_);
    core->Attach(*view);
    return std::make_shared<Balancer>(core);
  }

  size_t channels() const { return pool_->size(); }

  // --- balancing channel (issue 15) ---
  absl::StatusOr<std::shared_ptr<BalancingChannel>> Channel(std::string_view service,
                                                            const ChannelOptions& options) {
    absl::StatusOr<std::string> config = ServiceConfigJson(options);
    if (!config.ok()) return config.status();
    absl::StatusOr<std::shared_ptr<ServiceView>> view = Watch(service);
    if (!view.ok()) return view.status();
    grpc::ChannelArguments arguments = pool_->arguments();
    arguments.SetServiceConfigJSON(*config);
    auto core = std::make_shared<ChannelCore>(std::string(service), pool_->credentials(), arguments,
                                              options.retire_delay, &scheduler_);
    core->Attach(*std::move(view));
    if (BalancingChannelStats stats = core->stats(); !stats.left_out.empty()) {
      return HostNamesError(std::string(service), stats.left_out);
    }
    return std::make_shared<BalancingChannel>(std::move(core));
  }
  // --- end balancing channel ---

 private:
  // The health-check service name for `service`; unset: not checked.
  std::optional<std::string> CheckName(const std::string& service) const {
    auto it = health_checking_.check_names.find(service);
    switch (health_checking_.scope) {
      case HealthChecking::Scope::kOff:
        return std::nullopt;
      case HealthChecking::Scope::kAllServices:
        return it != health_checking_.check_names.end() ? it->second : std::string();
      case HealthChecking::Scope::kListedServices:
        if (it == health_checking_.check_names.end()) return std::nullopt;
        return it->second;
    }
    return std::nullopt;
  }

  static absl::Status Validate(const OutlierEjection& o) {
    if (!o.enabled) return absl::OkStatus();
    if (o.consecutive_failures < 0 || o.failure_rate_minimum_calls < 0 ||
        !(o.failure_rate_threshold >= 0 && o.failure_rate_threshold <= 1) ||
        !(o.max_ejected_share >= 0 && o.max_ejected_share <= 1) ||
        o.interval <= absl::ZeroDuration() || o.base_ejection_time <= absl::ZeroDuration() ||
        o.max_ejection_time < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "outlier ejection: counts must be >= 0, failure_rate_threshold and max_ejected_share "
          "in [0, 1], interval and base_ejection_time > 0, max_ejection_time >= 0");
    }
    return absl::OkStatus();
  }

  static grpc::ChannelArguments DefaultArguments() {
    grpc::ChannelArguments arguments;
    // An endpoint that restarts is back in about a second; gRPC's default
    // backoff would keep its channel failing for up to two minutes.
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    return arguments;
  }

  Scheduler scheduler_;
  const std::shared_ptr<Client> client_;
  const std::shared_ptr<const registry::Codec> codec_;
  const std::string prefix_;
  const std::shared_ptr<ChannelPool> pool_;
  const std::shared_ptr<::etcdgrpc::internal::ListenerRunner> runner_;
  const HealthChecking health_checking_;
  // Null when metrics are off.
  const std::shared_ptr<ResolverMetrics> metrics_;
  const std::shared_ptr<HealthChecks> health_;
  const HoldSettings hold_;
  mutable Mutex mu_;
  std::map<std::string, std::weak_ptr<ViewCore>> views_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal

Resolver::Resolver(Client& client, const ResolverOptions& options)
    : core_(std::make_shared<internal::ResolverCore>(client, options)) {}

Resolver::~Resolver() = default;

absl::StatusOr<std::shared_ptr<ServiceView>> Resolver::Watch(std::string_view service) {
  return core_->Watch(service);
}

absl::StatusOr<std::shared_ptr<Balancer>> Resolver::Balance(std::string_view service,
                                                            BalancerOptions options) {
  return core_->Balance(service, std::move(options));
}

size_t Resolver::channels() const { return core_->channels(); }

absl::StatusOr<std::shared_ptr<BalancingChannel>> Resolver::Channel(std::string_view service,
                                                                    const ChannelOptions& options) {
  return core_->Channel(service, options);
}

}  // namespace etcdgrpc::resolver
