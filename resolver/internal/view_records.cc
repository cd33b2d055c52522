// What etcd's answers do to a view's records: decoding them (skipping and
// reporting unusable ones), applying a listing or a batch of events, and
// publishing the result as a snapshot.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/registry/service_instance.h"
#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver::internal {

std::shared_ptr<const Endpoint> ViewCore::Decode(const KeyValue& kv,
                                                 std::vector<absl::Status>& problems) {
  absl::StatusOr<registry::ServiceInstance> instance = codec_->Decode(service_, kv.key, kv.value);
  absl::Status problem;
  if (!instance.ok()) {
    problem = instance.status();
  } else if (absl::Status address = registry::ValidateAddress(instance->address); !address.ok()) {
    // gRPC could not dial it: skip rather than hand out a broken channel.
    problem = absl::InvalidArgumentError(
        absl::StrCat("record ", kv.key, " has an unusable address: ", address.message()));
  }
  if (!problem.ok()) {
    absl::Status report(problem.code(), absl::StrCat("skipped (revision ", kv.mod_revision,
                                                     "): ", problem.message()));
    if (reported_.insert({kv.key, kv.mod_revision}).second) problems.push_back(report);
    skipped_[kv.key] = std::move(report);
    return nullptr;
  }
  skipped_.erase(kv.key);
  auto endpoint = std::make_shared<Endpoint>();
  endpoint->key = kv.key;
  endpoint->mod_revision = kv.mod_revision;
  endpoint->lease = kv.lease;
  endpoint->instance = *std::move(instance);
  endpoint->default_weight = codec_->default_weight();
  return endpoint;
}

ViewCore::ToDrain ViewCore::ApplyListing(const GetResult& listing) {
  std::vector<absl::Status> problems;
  records_.clear();
  skipped_.clear();
  for (const KeyValue& kv : listing.kvs) {
    if (auto endpoint = Decode(kv, problems)) records_[kv.key] = std::move(endpoint);
  }
  return PublishLocked(listing.header.revision, problems);
}

void ViewCore::ApplyHoldLocked(EndpointSet& set, std::vector<absl::Status>& problems) {
  const EndpointSet& base = hold_base_ != nullptr ? *hold_base_ : *published_;
  std::vector<std::shared_ptr<const Endpoint>> vanished;
  for (const auto& endpoint : base.endpoints) {
    if (records_.find(endpoint->key) == records_.end()) vanished.push_back(endpoint);
  }
  // Missing: the base set's keys that are gone, but no more than the base
  // set's size less the live records. Replacements come back under new keys
  // (a Kratos id is a fresh UUID per process, a go-zero key names the
  // lease), so as many live records as the share allows end the hold
  // whatever their keys.
  const size_t size = base.endpoints.size();
  const size_t short_by = records_.size() >= size ? 0 : size - records_.size();
  const size_t missing = std::min(vanished.size(), short_by);
  const bool loss =
      size != 0 && static_cast<double>(missing) > hold_.share * static_cast<double>(size);
  if (!loss) {
    if (hold_base_ != nullptr) {  // recovered: the records again
      hold_base_.reset();
      ++hold_id_;
    }
    return;
  }
  if (hold_base_ == nullptr) {
    hold_base_ = published_;
    hold_expired_ = false;
    const uint64_t id = ++hold_id_;
    const bool bounded = hold_.max_hold != absl::InfiniteDuration();
    problems.push_back(absl::UnavailableError(absl::StrCat(
        vanished.size(), " of the ", base.endpoints.size(), " endpoints of service \"", service_,
        "\" vanished at revision ", set.revision, " (more than ",
        static_cast<int>(hold_.share * 100), "% at once); keeping them until the set recovers",
        bounded ? absl::StrCat(" or for at most ", absl::FormatDuration(hold_.max_hold)) : "")));
    if (bounded && !stopped_) {
      std::weak_ptr<ViewCore> weak = weak_from_this();
      scheduler_->PostAfter(hold_.max_hold, [weak, id] {
        if (auto view = weak.lock()) view->HoldExpired(id);
      });
    }
  } else if (hold_expired_) {
    problems.push_back(absl::DeadlineExceededError(absl::StrCat(
        "the vanished endpoints of service \"", service_, "\" were kept for ",
        absl::FormatDuration(hold_.max_hold), "; publishing the ", set.endpoints.size(), " left")));
    hold_base_.reset();
    ++hold_id_;
    return;
  }
  // The records plus the vanished endpoints' last versions, in key order.
  set.endpoints.insert(set.endpoints.end(), vanished.begin(), vanished.end());
  std::sort(set.endpoints.begin(), set.endpoints.end(),
            [](const auto& a, const auto& b) { return a->key < b->key; });
}

ViewCore::ToDrain ViewCore::PublishLocked(int64_t revision,
                                          const std::vector<absl::Status>& reported) {
  std::vector<absl::Status> problems = reported;
  auto set = std::make_shared<EndpointSet>();
  set->service = service_;
  set->revision = std::max(revision, revision_);
  revision_ = set->revision;
  set->endpoints.reserve(records_.size());
  for (const auto& [key, endpoint] : records_) set->endpoints.push_back(endpoint);
  if (hold_.enabled) ApplyHoldLocked(*set, problems);
  EndpointChanges changes = Diff(*published_, *set);
  if (changes.empty() && problems.empty() && set->revision == published_->revision) return {};
  published_ = set;
  endpoints_gauge_.Set(static_cast<double>(set->endpoints.size()));
  published_changed_.Notify();
  cell_.Publish(std::make_unique<Holder>(Holder{set}));
  if (changes.empty() && problems.empty()) return {};  // only the revision moved
  return QueueLocked(set, changes, problems);
}

ViewCore::ToDrain ViewCore::ApplyEvents(const WatchEvents& batch) {
  std::vector<absl::Status> problems;
  int64_t revision = revision_;
  for (const Event& event : batch.events) {
    revision = std::max(revision, event.kv.mod_revision);
    if (event.type == EventType::kDelete) {
      records_.erase(event.kv.key);
      skipped_.erase(event.kv.key);
      continue;
    }
    if (auto endpoint = Decode(event.kv, problems)) {
      records_[event.kv.key] = std::move(endpoint);
    } else {
      records_.erase(event.kv.key);  // its previous version no longer holds
    }
  }
  return PublishLocked(revision, problems);
}

}  // namespace etcdgrpc::resolver::internal
