// The wire audit's rules (docs/wire-audit.md): watch revisions delivered once, in order,
// and resumed without a gap after a re-create; keep-alive renewals one per lease per
// interval and never late (docs/design.md, "Kept leases").
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/wire_audit_state.h"
#include "common/lease_id.h"

namespace etcdgrpc::cli::wire_audit_internal {
namespace {

using nlohmann::json;

const json& Field(const json& object, const char* name) {
  static const json kNull = nullptr;
  if (!object.is_object()) return kNull;
  auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

bool Bool(const json& object, const char* name) {
  const json& value = Field(object, name);
  return value.is_boolean() && value.get<bool>();
}

std::string String(const json& object, const char* name) {
  const json& value = Field(object, name);
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::string Seconds(int64_t micros) { return absl::StrFormat("%.3f s", micros / 1e6); }

}  // namespace

void Auditor::Violation(int64_t line, std::string kind, int64_t pid, std::string subject,
                        std::string detail) {
  report_.violations.push_back({.line = line,
                                .kind = std::move(kind),
                                .pid = pid,
                                .subject = std::move(subject),
                                .detail = std::move(detail)});
}

void Auditor::Watch(const Record& record, CallState& call) {
  if (record.dir == Dir::kSend) {
    if (const json& create = Field(record.body, "createRequest"); create.is_object()) {
      call.creating.push_back(Int(create, "watchId"));
      WatchCreate(record, create);
    } else if (const json& cancel = Field(record.body, "cancelRequest"); cancel.is_object()) {
      auto it = watches_.find({record.pid, Int(cancel, "watchId")});
      if (it != watches_.end()) {
        it->second.active = false;
        it->second.summary.ends.push_back(
            {.line = record.line, .call = record.call, .by = "client"});
      }
    }
  } else if (record.dir == Dir::kRecv) {
    WatchAnswer(record, call);
  } else {
    // The stream ended: its watches are re-created on the next one, if at all.
    for (auto& [key, watch] : watches_) {
      if (key.first == record.pid && watch.call == record.call) watch.active = false;
    }
  }
}

void Auditor::WatchCreate(const Record& record, const json& create) {
  const int64_t id = Int(create, "watchId");
  const int64_t start = Int(create, "startRevision");
  WatchState& watch = watches_[{record.pid, id}];
  const std::string subject = absl::StrCat("watch ", id);
  if (!watch.summary.creates.empty() && watch.next > 0) {
    // A re-create after a break: it must start where delivery stopped.
    const int64_t allowed = std::max(watch.next, watch.allowed);
    if (start == 0) {
      Violation(record.line, "revision_gap", record.pid, subject,
                absl::StrCat("re-created from now after delivering up to revision ", watch.next - 1,
                             ": revisions from ", watch.next, " may be lost"));
    } else if (start > allowed) {
      Violation(record.line, "revision_gap", record.pid, subject,
                absl::StrCat("re-created from revision ", start, ", but revisions ", watch.next,
                             "..", start - 1, " were never delivered"));
    }
  }
  watch.summary.pid = record.pid;
  watch.summary.watch_id = id;
  watch.summary.key = String(create, "key");
  watch.summary.range_end = String(create, "rangeEnd");
  watch.summary.creates.push_back(
      {.line = record.line, .call = record.call, .start_revision = start});
  watch.call = record.call;
  watch.active = false;
}

void Auditor::WatchAnswer(const Record& record, CallState& call) {
  int64_t id = Int(record.body, "watchId");
  const int64_t revision = Int(Field(record.body, "header"), "revision");
  const bool created = Bool(record.body, "created");
  const bool canceled = Bool(record.body, "canceled");
  if (created) {
    // etcd answers creates in order; -1 (a refused create) answers the oldest outstanding.
    if (id == -1 && !call.creating.empty()) id = call.creating.front();
    auto pending = std::find(call.creating.begin(), call.creating.end(), id);
    if (pending != call.creating.end()) call.creating.erase(pending);
  }
  if (id == -1 && !created) {
    // A stream-wide progress answer: a fixed etcd has sent everything up to it.
    for (auto& [key, watch] : watches_) {
      if (key.first == record.pid && watch.call == record.call && watch.active) {
        watch.allowed = std::max(watch.allowed, revision + 1);
      }
    }
    return;
  }
  auto it = watches_.find({record.pid, id});
  if (it == watches_.end()) return;
  WatchState& watch = it->second;
  if (created && !watch.summary.creates.empty()) {
    WireWatchCreate& create = watch.summary.creates.back();
    create.created_revision = revision;
    if (watch.next == 0)
      watch.next = create.start_revision > 0 ? create.start_revision : revision + 1;
    watch.active = !canceled;
  }
  if (canceled) {
    watch.active = false;
    watch.summary.ends.push_back({.line = record.line,
                                  .call = record.call,
                                  .by = "etcd",
                                  .reason = String(record.body, "cancelReason"),
                                  .compact_revision = Int(record.body, "compactRevision")});
    return;
  }
  const json& events = Field(record.body, "events");
  if (events.is_array() && !events.empty()) {
    WatchEvents(record, watch, events);
  } else if (!created && revision > 0) {
    // A progress answer for this watch: etcd sends it in order with its events.
    watch.next = std::max(watch.next, revision + 1);
  }
}

void Auditor::WatchEvents(const Record& record, WatchState& watch, const json& events) {
  const std::string subject = absl::StrCat("watch ", watch.summary.watch_id);
  for (const json& event : events) {
    const json& kv = Field(event, "kv");
    const int64_t revision = Int(kv, "modRevision");
    const std::string key = String(kv, "key");
    if (!watch.delivered.emplace(revision, key).second) {
      Violation(record.line, "repeated_revision", record.pid, subject,
                absl::StrCat("revision ", revision, " of key ", key, " delivered again"));
    } else if (revision < watch.summary.last_revision) {
      Violation(
          record.line, "out_of_order_revision", record.pid, subject,
          absl::StrCat("revision ", revision, " after revision ", watch.summary.last_revision));
    }
    ++watch.summary.events;
    if (watch.summary.first_revision == 0) watch.summary.first_revision = revision;
    watch.summary.last_revision = std::max(watch.summary.last_revision, revision);
    watch.next = std::max(watch.next, revision + 1);
  }
}

void Auditor::Lease(const Record& record) {
  if (record.dir == Dir::kEnd) return;
  const int64_t id = Int(record.body, "ID");
  LeaseState& lease = leases_[{record.pid, id}];
  lease.summary.pid = record.pid;
  lease.summary.id = id;
  const std::string subject = absl::StrCat("lease ", internal::FormatLeaseId(id));
  if (record.dir == Dir::kRecv) {
    ++lease.summary.answers;
    lease.summary.last_ttl = Int(record.body, "TTL");
    lease.lost = lease.summary.last_ttl <= 0;
    lease.answered = true;
    lease.last_answer_us = record.time_us;
    lease.last_answered_send_us = lease.last_send_us;
    return;
  }
  if (lease.summary.renewals > 0 && !lease.lost) {
    const int64_t gap = record.time_us - lease.last_send_us;
    if (lease.summary.renewals == 1 || gap < lease.summary.min_gap_us) {
      lease.summary.min_gap_us = gap;
    }
    lease.summary.max_gap_us = std::max(lease.summary.max_gap_us, gap);
    if (lease.summary.last_ttl > 0) {
      const auto interval = static_cast<int64_t>(static_cast<double>(lease.summary.last_ttl) * 1e6 *
                                                 options_.renew_fraction);
      // On a new stream every lease is renewed at once (docs/design.md, "Kept leases"):
      // only two renewals on one stream count as one interval's double.
      if (record.call == lease.last_send_call &&
          gap < interval - absl::ToInt64Microseconds(options_.early_slack)) {
        Violation(record.line, "double_renewal", record.pid, subject,
                  absl::StrCat("renewed ", Seconds(gap), " after the last renewal (interval ",
                               Seconds(interval), ")"));
      }
      const int64_t due = lease.last_answer_us + interval;
      if (lease.last_answer_us > 0 &&
          record.time_us > due + absl::ToInt64Microseconds(options_.late_slack)) {
        const bool expired =
            record.time_us > lease.last_answered_send_us + lease.summary.last_ttl * 1'000'000;
        Violation(record.line, "late_renewal", record.pid, subject,
                  absl::StrCat("renewed ", Seconds(record.time_us - due), " after it was due",
                               expired ? ", after its TTL ran out" : ""));
      }
    }
  }
  ++lease.summary.renewals;
  lease.last_send_us = record.time_us;
  lease.last_send_call = record.call;
  lease.answered = false;
}

}  // namespace etcdgrpc::cli::wire_audit_internal
