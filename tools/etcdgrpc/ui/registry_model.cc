// The `ui` page's state and its change events (see registry_model.h).
#include "ui/registry_model.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/lease_id.h"

namespace etcdgrpc::cli::ui {
namespace {

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
}

Json InstanceJson(const resolver::Endpoint& endpoint) {
  Json metadata = Json::object();
  for (const auto& [key, value] : endpoint.instance.metadata) metadata[key] = value;
  Json json;
  json["key"] = endpoint.key;
  json["id"] = endpoint.instance.id;
  json["address"] = endpoint.address();
  json["metadata"] = std::move(metadata);
  // Hex as etcdctl prints it; a JSON number would lose digits in JavaScript.
  json["lease"] = endpoint.lease == 0 ? "" : internal::FormatLeaseId(endpoint.lease);
  json["mod_revision"] = endpoint.mod_revision;
  json["registered_at"] = endpoint.instance.registered_at == absl::InfinitePast()
                              ? ""
                              : absl::FormatTime(absl::RFC3339_sec, endpoint.instance.registered_at,
                                                 absl::UTCTimeZone());
  return json;
}

Json Change(std::string_view kind, const std::string& service, int64_t revision,
            const resolver::Endpoint* endpoint) {
  Json change;
  change["at"] = Now();
  change["revision"] = revision;
  change["service"] = service;
  change["kind"] = kind;
  change["id"] = endpoint == nullptr ? "" : endpoint->instance.id;
  change["address"] = endpoint == nullptr ? "" : endpoint->address();
  return change;
}

}  // namespace

std::string DumpJson(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

RegistryModel::RegistryModel(std::string codec, std::string prefix, size_t timeline_length)
    : codec_(std::move(codec)), prefix_(std::move(prefix)), timeline_length_(timeline_length) {}

void RegistryModel::ApplyUpdate(const resolver::EndpointSet& set,
                                const resolver::EndpointChanges& changes, bool first,
                                bool listed_at_start) {
  internal::MutexLock lock(&mu_);
  Service& service = services_[set.service];
  service.revision = set.revision;
  service.instances = Json::array();
  service.leases.clear();
  for (const auto& endpoint : set.endpoints) {
    service.instances.push_back(InstanceJson(*endpoint));
    if (endpoint->lease != 0) service.leases.push_back(endpoint->lease);
  }
  Json update;
  update["service"] = set.service;
  update["revision"] = set.revision;
  update["instances"] = service.instances;
  hub_.Publish(SseFrame("service", DumpJson(update)));
  if (first && listed_at_start) {
    Json listed = Change("listed", set.service, set.revision, nullptr);
    listed["address"] = std::to_string(set.endpoints.size()) + " instance(s)";
    AddChange(std::move(listed));
    return;
  }
  // An added or updated record changed at its own revision; a removal at the set's.
  for (const auto& e : changes.added) AddChange(Change("added", set.service, e->mod_revision, &*e));
  for (const auto& e : changes.updated) {
    AddChange(Change("updated", set.service, e->mod_revision, &*e));
  }
  for (const auto& e : changes.removed)
    AddChange(Change("removed", set.service, set.revision, &*e));
}

void RegistryModel::AddProblem(const std::string& service, const std::string& problem) {
  internal::MutexLock lock(&mu_);
  Json change = Change("problem", service, 0, nullptr);
  change["address"] = problem;
  AddChange(std::move(change));
}

void RegistryModel::AddChange(Json change) {
  change["seq"] = ++sequence_;
  hub_.Publish(SseFrame("change", DumpJson(change)));
  timeline_.push_back(std::move(change));
  while (timeline_.size() > timeline_length_) timeline_.pop_front();
}

void RegistryModel::SetStatus(Json status) {
  internal::MutexLock lock(&mu_);
  std::string text = DumpJson(status);
  if (text == status_text_) return;
  hub_.Publish(SseFrame("status", text));
  status_ = std::move(status);
  status_text_ = std::move(text);
}

Json RegistryModel::State() const {
  internal::MutexLock lock(&mu_);
  return StateLocked();
}

Json RegistryModel::StateLocked() const {
  Json state;
  state["codec"] = codec_;
  state["prefix"] = prefix_;
  Json services = Json::array();
  for (const auto& [name, service] : services_) {
    Json json;
    json["service"] = name;
    json["revision"] = service.revision;
    json["instances"] = service.instances;
    services.push_back(std::move(json));
  }
  state["services"] = std::move(services);
  state["timeline"] = Json::array();
  for (const Json& change : timeline_) state["timeline"].push_back(change);
  state["status"] = status_;
  return state;
}

std::shared_ptr<SseSubscriber> RegistryModel::Subscribe() {
  // Under the lock, so no change falls between the state and the first event after it.
  internal::MutexLock lock(&mu_);
  return hub_.Join(SseFrame("state", DumpJson(StateLocked())));
}

std::vector<int64_t> RegistryModel::Leases() const {
  internal::MutexLock lock(&mu_);
  std::vector<int64_t> leases;
  for (const auto& [name, service] : services_) {
    leases.insert(leases.end(), service.leases.begin(), service.leases.end());
  }
  return leases;
}

std::vector<std::string> RegistryModel::Services() const {
  internal::MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& [name, service] : services_) names.push_back(name);
  return names;
}

}  // namespace etcdgrpc::cli::ui
