// What the `ui` page shows, kept in the process: every service's instances as
// the resolver last published them, a bounded timeline of changes with their
// revisions, and the status (stale or live, the client's stats, leases' TTL
// left, instances' health). Every change is also pushed to the page's
// server-sent events hub, so a browser that joins gets the whole state and
// then each change, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "etcdgrpc/resolver/endpoint.h"
#include "nlohmann/json.hpp"
#include "ui/sse_hub.h"

namespace etcdgrpc::cli::ui {

using Json = nlohmann::ordered_json;

// Compact JSON; values from etcd may hold invalid UTF-8: replaced, never thrown.
[[nodiscard]] std::string DumpJson(const Json& json);

// Thread-safe; no call runs anything but its own code under the lock (the hub
// never blocks).
class RegistryModel {
 public:
  RegistryModel(std::string codec, std::string prefix, size_t timeline_length = 200);

  [[nodiscard]] SseHub& hub() { return hub_; }

  // A resolver update of one service. `first`: the subscription's first call
  // (the service as listed); `listed_at_start`: the service was there when
  // the page began, so its first set is not news.
  void ApplyUpdate(const resolver::EndpointSet& set, const resolver::EndpointChanges& changes,
                   bool first, bool listed_at_start);
  // Something the resolver worked around (a record skipped, a re-list).
  void AddProblem(const std::string& service, const std::string& problem);
  // The status block, replaced whole; published only when it changed.
  void SetStatus(Json status);

  // The whole state, as /api/state answers and a joining browser first gets.
  [[nodiscard]] Json State() const;
  // A subscriber of the events, its first frame the whole state.
  [[nodiscard]] std::shared_ptr<SseSubscriber> Subscribe();

  // The leases of the instances shown, for the TTL refresh.
  [[nodiscard]] std::vector<int64_t> Leases() const;
  // The services shown with their instances' keys, for the health refresh.
  [[nodiscard]] std::vector<std::string> Services() const;

 private:
  struct Service {
    int64_t revision = 0;
    Json instances = Json::array();
    std::vector<int64_t> leases;
  };

  void AddChange(Json change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[nodiscard]] Json StateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string codec_;
  const std::string prefix_;
  const size_t timeline_length_;
  SseHub hub_;
  mutable internal::Mutex mu_;
  std::map<std::string, Service> services_ ABSL_GUARDED_BY(mu_);
  std::deque<Json> timeline_ ABSL_GUARDED_BY(mu_);
  Json status_ ABSL_GUARDED_BY(mu_) = Json::object();
  std::string status_text_ ABSL_GUARDED_BY(mu_);
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdgrpc::cli::ui
