// Feeds the `ui` page's model from etcd: lists the registry once, finds
// services registered later with one watch of the prefix, follows each
// service through the resolver (its view's watch is what updates the page),
// and samples the status each tick: stale or live, the client's own stats,
// each lease's TTL left and each instance's health.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/resolver/resolver.h"
#include "ui/registry_model.h"

namespace etcdgrpc::cli::ui {

struct TrackerOptions {
  std::shared_ptr<const registry::Codec> codec = registry::NativeCodec();
  // The root of the registry's keys; must not be empty (every service is listed under it).
  std::string prefix;
  // gRPC health checks of every instance (the resolver's client-side health checking).
  bool health_checks = true;
};

// Not thread-safe: Tick() and the destructor run on one thread (the
// command's main thread). The listeners it installs run on the client's and
// the resolver's threads and only touch the model and the discovery queue.
class RegistryTracker {
 public:
  // `wake` makes the owner call Tick() soon (a service was found); it may be
  // called from any thread, with no lock held.
  RegistryTracker(Client& client, TrackerOptions options, RegistryModel& model,
                  std::function<void()> wake);
  // Stops the watches and subscriptions; waits for their listener calls.
  ~RegistryTracker();
  RegistryTracker(const RegistryTracker&) = delete;
  RegistryTracker& operator=(const RegistryTracker&) = delete;

  // Lists the registry (again, until it succeeds), follows the services
  // found since, and publishes the status. Blocks for at most the client's
  // request time-out per etcd call.
  void Tick();

 private:
  class Discovery;
  class Follower;
  struct Leases;

  void List();
  void Follow(const std::string& service, bool listed_at_start);
  void RefreshLeases();
  [[nodiscard]] Json Status();

  Client& client_;
  const TrackerOptions options_;
  RegistryModel& model_;
  const std::function<void()> wake_;
  resolver::Resolver resolver_;
  std::shared_ptr<Leases> leases_;

  // Services the discovery watch found, waiting for Tick(); whether it ended.
  struct Found {
    internal::Mutex mu;
    std::set<std::string> services ABSL_GUARDED_BY(mu);
    bool watch_ended ABSL_GUARDED_BY(mu) = false;
  };
  std::shared_ptr<Found> found_;

  bool listed_ = false;
  absl::Status list_error_;
  std::optional<absl::Time> stale_since_;
  std::unique_ptr<Discovery> discovery_;
  WatchHandle discovery_watch_;
  struct Followed {
    std::unique_ptr<Follower> follower;
    std::shared_ptr<resolver::ServiceView> view;
    std::shared_ptr<resolver::Balancer> balancer;
    resolver::ServiceView::Subscription subscription;
  };
  std::map<std::string, Followed> followed_;
};

}  // namespace etcdgrpc::cli::ui
