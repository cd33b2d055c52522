// Feeds the `ui` page's model from etcd (see registry_tracker.h).
#include "ui/registry_tracker.h"

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/lease_id.h"
#include "etcdgrpc/registry/list.h"

namespace etcdgrpc::cli::ui {
namespace {

std::string Timestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

// {prefix}/{service}/...: the service segment, as registry::ListInstances reads it; empty
// for a key with none.
std::string_view ServiceOfKey(std::string_view range_prefix, std::string_view key) {
  if (key.size() <= range_prefix.size()) return {};
  const std::string_view rest = key.substr(range_prefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  return rest.substr(0, slash);
}

const char* HealthName(resolver::EndpointHealth health) {
  switch (health) {
    case resolver::EndpointHealth::kServing:
      return "serving";
    case resolver::EndpointHealth::kNotServing:
      return "not serving";
    case resolver::EndpointHealth::kServiceUnknown:
      return "service unknown";
    case resolver::EndpointHealth::kUnreachable:
      return "unreachable";
    case resolver::EndpointHealth::kUnknown:
      break;
  }
  return "unknown";
}

Json StreamJson(const StreamStats& stream) {
  Json json;
  json["state"] = stream.state;
  json["endpoint"] = stream.endpoint;
  json["opens"] = stream.opens;
  json["stalls"] = stream.stalls;
  return json;
}

Json ClientJson(const ClientStats& stats) {
  Json json;
  json["watch"] = StreamJson(stats.watch);
  json["watch"]["watches"] = stats.watch.watches;
  json["keepalive"] = StreamJson(stats.keepalive);
  json["keepalive"]["kept_leases"] = stats.keepalive.kept_leases;
  json["endpoints"] = Json::array();
  for (const EndpointHealth& endpoint : stats.endpoints) {
    Json e;
    e["address"] = endpoint.address;
    e["suspect"] = endpoint.suspect;
    e["failures"] = endpoint.failures;
    e["last_failure"] = endpoint.last_failure;
    json["endpoints"].push_back(std::move(e));
  }
  return json;
}

}  // namespace

// The prefix watch: only says which services exist; each service's records come through
// its resolver view.
class RegistryTracker::Discovery final : public WatchListener {
 public:
  Discovery(std::string range_prefix, std::shared_ptr<Found> found, std::function<void()> wake)
      : range_prefix_(std::move(range_prefix)), found_(std::move(found)), wake_(std::move(wake)) {}

  void OnEvents(const WatchEvents& batch) override {
    bool added = false;
    {
      internal::MutexLock lock(&found_->mu);
      for (const Event& event : batch.events) {
        if (event.type != EventType::kPut) continue;
        const std::string_view service = ServiceOfKey(range_prefix_, event.kv.key);
        if (!service.empty()) added |= found_->services.emplace(service).second;
      }
    }
    if (added) wake_();
  }
  void OnEnd(const WatchEnd& /*end*/) override {
    {
      internal::MutexLock lock(&found_->mu);
      found_->watch_ended = true;
    }
    wake_();
  }

 private:
  const std::string range_prefix_;
  const std::shared_ptr<Found> found_;
  const std::function<void()> wake_;
};

class RegistryTracker::Follower final : public resolver::ServiceListener {
 public:
  Follower(RegistryModel& model, bool listed_at_start)
      : model_(model), listed_at_start_(listed_at_start) {}

  void OnUpdate(const resolver::EndpointSet& set,
                const resolver::EndpointChanges& changes) override {
    model_.ApplyUpdate(set, changes, first_, listed_at_start_);
    first_ = false;
  }
  void OnProblem(const absl::Status& problem) override {
    model_.AddProblem(service_, std::string(problem.message()));
  }
  void set_service(std::string service) { service_ = std::move(service); }

 private:
  RegistryModel& model_;
  const bool listed_at_start_;
  std::string service_;
  bool first_ = true;  // calls of one subscription never overlap
};

// Each lease's TTL left as etcd last answered; written by gRPC's callback threads.
struct RegistryTracker::Leases {
  struct Ttl {
    int64_t ttl = 0;
    int64_t granted_ttl = 0;
    absl::Time as_of;
    bool asking = false;
  };
  internal::Mutex mu;
  std::map<int64_t, Ttl> ttls ABSL_GUARDED_BY(mu);
};

RegistryTracker::RegistryTracker(Client& client, TrackerOptions options, RegistryModel& model,
                                 std::function<void()> wake)
    : client_(client),
      options_(std::move(options)),
      model_(model),
      wake_(std::move(wake)),
      resolver_(client,
                [this] {
                  resolver::ResolverOptions resolver_options;
                  resolver_options.codec = options_.codec;
                  resolver_options.prefix = options_.prefix;
                  if (options_.health_checks) {
                    resolver_options.health_checking.scope =
                        resolver::HealthChecking::Scope::kAllServices;
                  }
                  return resolver_options;
                }()),
      leases_(std::make_shared<Leases>()),
      found_(std::make_shared<Found>()) {}

RegistryTracker::~RegistryTracker() {
  followed_.clear();
  discovery_watch_.Cancel();
}

void RegistryTracker::Tick() {
  bool relist = false;
  {
    internal::MutexLock lock(&found_->mu);
    relist = found_->watch_ended;
  }
  if (!listed_ || relist) List();
  std::set<std::string> found;
  {
    internal::MutexLock lock(&found_->mu);
    found.swap(found_->services);
  }
  for (const std::string& service : found) Follow(service, false);
  RefreshLeases();
  model_.SetStatus(Status());
}

void RegistryTracker::List() {
  absl::StatusOr<registry::ListResult> listed =
      registry::ListInstances(client_, *options_.codec, options_.prefix);
  if (!listed.ok()) {
    list_error_ = listed.status();
    return;
  }
  list_error_ = absl::OkStatus();
  const bool at_start = !listed_;
  listed_ = true;
  {
    internal::MutexLock lock(&found_->mu);
    found_->watch_ended = false;
  }
  discovery_watch_.Cancel();
  const std::string range_prefix = registry::JoinKey(options_.prefix, "");
  discovery_ = std::make_unique<Discovery>(range_prefix, found_, wake_);
  absl::StatusOr<WatchHandle> watch =
      client_.Watch(WatchRequest{.range = KeyRange::Prefix(range_prefix),
                                 .start_revision = listed->revision + 1,
                                 .no_delete = true},
                    discovery_.get());
  if (!watch.ok()) {
    list_error_ = watch.status();
    listed_ = false;
    return;
  }
  discovery_watch_ = *std::move(watch);
  for (const registry::ListedInstance& instance : listed->instances) {
    Follow(instance.instance.service, at_start);
  }
}

void RegistryTracker::Follow(const std::string& service, bool listed_at_start) {
  if (followed_.contains(service)) return;
  absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view = resolver_.Watch(service);
  if (!view.ok()) {
    // Etcd unreachable, most likely: tried again on the next tick.
    model_.AddProblem(service, std::string(view.status().message()));
    internal::MutexLock lock(&found_->mu);
    found_->services.insert(service);
    return;
  }
  Followed followed;
  followed.view = *std::move(view);
  if (options_.health_checks) {
    absl::StatusOr<std::shared_ptr<resolver::Balancer>> balancer = resolver_.Balance(service);
    if (balancer.ok()) followed.balancer = *std::move(balancer);
  }
  followed.follower = std::make_unique<Follower>(model_, listed_at_start);
  followed.follower->set_service(service);
  followed.subscription = followed.view->Subscribe(followed.follower.get());
  followed_.emplace(service, std::move(followed));
}

void RegistryTracker::RefreshLeases() {
  const std::vector<int64_t> shown = model_.Leases();
  std::vector<int64_t> ask;
  {
    internal::MutexLock lock(&leases_->mu);
    std::map<int64_t, Leases::Ttl> kept;
    for (int64_t id : shown) {
      Leases::Ttl ttl = leases_->ttls[id];
      if (!ttl.asking) ask.push_back(id);
      ttl.asking = true;
      kept[id] = ttl;
    }
    leases_->ttls = std::move(kept);
  }
  for (int64_t id : ask) {
    client_.TimeToLiveAsync(id, false,
                            [leases = leases_, id](absl::StatusOr<LeaseTimeToLiveResult> result) {
                              internal::MutexLock lock(&leases->mu);
                              auto it = leases->ttls.find(id);
                              if (it == leases->ttls.end()) return;
                              it->second.asking = false;
                              // A failure keeps the last answer (and its time).
                              if (!result.ok()) return;
                              it->second.ttl = result->ttl;
                              it->second.granted_ttl = result->granted_ttl;
                              it->second.as_of = absl::Now();
                            });
  }
}

Json RegistryTracker::Status() {
  const ClientStats stats = client_.stats();
  Json status;
  std::string reason;
  if (!listed_) {
    reason = list_error_.ok() ? "not listed yet"
                              : absl::StrCat("listing failed: ", list_error_.message());
  } else if (stats.watch.state != "open") {
    reason = absl::StrCat("the watch stream is ", stats.watch.state);
    for (const EndpointHealth& endpoint : stats.endpoints) {
      if (!endpoint.last_failure.empty()) {
        absl::StrAppend(&reason, "; ", endpoint.address, ": ", endpoint.last_failure);
      }
    }
  }
  const bool stale = !reason.empty();
  if (stale && !stale_since_) stale_since_ = absl::Now();
  if (!stale) stale_since_.reset();
  status["stale"] = stale;
  status["reason"] = reason;
  status["stale_since"] = stale_since_ ? Timestamp(*stale_since_) : "";
  status["client"] = ClientJson(stats);
  status["subscribers"] = model_.hub().subscribers();
  status["dropped_subscribers"] = model_.hub().dropped();
  Json leases = Json::object();
  {
    internal::MutexLock lock(&leases_->mu);
    for (const auto& [id, ttl] : leases_->ttls) {
      if (ttl.as_of == absl::Time()) continue;
      Json json;
      json["ttl"] = ttl.ttl;
      json["granted_ttl"] = ttl.granted_ttl;
      json["as_of"] = Timestamp(ttl.as_of);
      leases[internal::FormatLeaseId(id)] = std::move(json);
    }
  }
  status["leases"] = std::move(leases);
  Json health = Json::object();
  for (const auto& [service, followed] : followed_) {
    if (followed.balancer == nullptr) continue;
    Json endpoints = Json::object();
    for (const resolver::EndpointStats& endpoint : followed.balancer->endpoint_stats()) {
      Json json;
      json["health"] = HealthName(endpoint.health);
      json["ejected"] = endpoint.ejected;
      json["channel_failing"] = endpoint.channel_failing;
      endpoints[endpoint.key] = std::move(json);
    }
    health[service] = std::move(endpoints);
  }
  status["health"] = std::move(health);
  status["health_checks"] = options_.health_checks;
  return status;
}

}  // namespace etcdgrpc::cli::ui
