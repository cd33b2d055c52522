// The wire audit's report: text for people (`etcdgrpc audit`), JSON for tools (`-w json`).
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/wire_audit.h"
#include "common/lease_id.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

using nlohmann::ordered_json;

// A log with thousands of bad lines should not bury the rest of the report.
constexpr size_t kMaxProblemsShown = 50;

std::string Seconds(int64_t micros) { return absl::StrFormat("%.3fs", micros / 1e6); }

std::string Status(const WireStreamSummary& stream) {
  if (!stream.code.has_value()) return "open at the end of the log";
  if (*stream.code == 0) return "OK";
  return absl::StrCat("code ", *stream.code, " \"", stream.status_message, "\"");
}

void AppendWatch(std::string& out, const WireWatchSummary& watch) {
  absl::StrAppend(&out, "  watch ", watch.watch_id, " (pid ", watch.pid, ") key ", watch.key);
  if (!watch.range_end.empty()) absl::StrAppend(&out, " range end ", watch.range_end);
  absl::StrAppend(&out, ": ", watch.events, " events");
  if (watch.events > 0) {
    absl::StrAppend(&out, ", revisions ", watch.first_revision, "..", watch.last_revision);
  }
  out.append("\n");
  for (const WireWatchCreate& create : watch.creates) {
    absl::StrAppend(&out, "    line ", create.line, ": create on call ", create.call,
                    " from revision ", create.start_revision);
    if (create.created_revision.has_value()) {
      absl::StrAppend(&out, ", created at revision ", *create.created_revision);
    }
    out.append("\n");
  }
  for (const WireWatchEnd& end : watch.ends) {
    absl::StrAppend(&out, "    line ", end.line, ": canceled by ", end.by, " on call ", end.call);
    if (!end.reason.empty()) absl::StrAppend(&out, " (", end.reason, ")");
    if (end.compact_revision > 0) absl::StrAppend(&out, ", compacted at ", end.compact_revision);
    out.append("\n");
  }
}

ordered_json TrafficJson(const WireTraffic& traffic) {
  return {{"sent", traffic.sent},
          {"sent_bytes", traffic.sent_bytes},
          {"received", traffic.received},
          {"received_bytes", traffic.received_bytes}};
}

}  // namespace

std::string FormatWireAuditText(const WireAuditReport& report) {
  std::string out = absl::StrCat("wire audit: ", report.lines, " lines, ", report.records,
                                 " records; ", report.violations.size(), " violations, ",
                                 report.problems.size(), " unreadable lines\n");
  if (!report.violations.empty()) {
    out.append("\nviolations:\n");
    for (const WireAuditViolation& v : report.violations) {
      absl::StrAppend(&out, "  line ", v.line, ": ", v.kind, ": ", v.subject, " (pid ", v.pid,
                      "): ", v.detail, "\n");
    }
  }
  if (!report.problems.empty()) {
    out.append("\nunreadable lines:\n");
    for (size_t i = 0; i < report.problems.size() && i < kMaxProblemsShown; ++i) {
      const WireAuditProblem& p = report.problems[i];
      absl::StrAppend(&out, "  line ", p.line, ": ", p.kind, ": ", p.detail, "\n");
    }
    if (report.problems.size() > kMaxProblemsShown) {
      absl::StrAppend(&out, "  ... and ", report.problems.size() - kMaxProblemsShown,
                      " more (-w json lists all)\n");
    }
  }
  out.append("\nmethods:\n");
  out.append(absl::StrFormat("  %-42s %7s %7s %9s %12s %9s %12s\n", "method", "calls", "failed",
                             "sent", "sent bytes", "received", "recv bytes"));
  for (const WireMethodSummary& m : report.methods) {
    out.append(absl::StrFormat("  %-42s %7d %7d %9d %12d %9d %12d%s\n", m.method, m.calls, m.failed,
                               m.traffic.sent, m.traffic.sent_bytes, m.traffic.received,
                               m.traffic.received_bytes, m.known ? "" : "  (unknown method)"));
  }
  if (!report.streams.empty()) {
    out.append("\nstreams:\n");
    for (const WireStreamSummary& s : report.streams) {
      absl::StrAppend(&out, "  pid ", s.pid, " call ", s.call, " ", s.method, " to ", s.endpoint,
                      " (line ", s.first_line, ", ", Seconds(s.last_us - s.start_us), "): sent ",
                      s.traffic.sent, " (", s.traffic.sent_bytes, " B), received ",
                      s.traffic.received, " (", s.traffic.received_bytes, " B); ", Status(s), "\n");
    }
  }
  if (!report.watches.empty()) {
    out.append("\nwatches:\n");
    for (const WireWatchSummary& w : report.watches) AppendWatch(out, w);
  }
  if (!report.leases.empty()) {
    out.append("\nleases:\n");
    for (const WireLeaseSummary& l : report.leases) {
      absl::StrAppend(&out, "  lease ", internal::FormatLeaseId(l.id), " (pid ", l.pid,
                      "): ", l.renewals, " renewals, ", l.answers, " answers, last TTL ",
                      l.last_ttl);
      if (l.renewals > 1) {
        absl::StrAppend(&out, ", between renewals ", Seconds(l.min_gap_us), "..",
                        Seconds(l.max_gap_us));
      }
      out.append("\n");
    }
  }
  out.append("\nretries:");
  if (report.retries.empty()) out.append(" none");
  out.append("\n");
  for (const WireRetry& r : report.retries) {
    absl::StrAppend(&out, "  line ", r.retry_line, ": ", r.method, " call ", r.retry_call, " (pid ",
                    r.pid, ") repeats call ", r.failed_call, " (line ", r.failed_line,
                    ") which failed with code ", r.failed_code, "\n");
  }
  return out;
}

std::string FormatWireAuditJson(const WireAuditReport& report) {
  ordered_json out = {{"lines", report.lines}, {"records", report.records}};
  out["violations"] = ordered_json::array();
  for (const WireAuditViolation& v : report.violations) {
    out["violations"].push_back({{"line", v.line},
                                 {"kind", v.kind},
                                 {"pid", v.pid},
                                 {"subject", v.subject},
                                 {"detail", v.detail}});
  }
  out["problems"] = ordered_json::array();
  for (const WireAuditProblem& p : report.problems) {
    out["problems"].push_back({{"line", p.line}, {"kind", p.kind}, {"detail", p.detail}});
  }
  out["methods"] = ordered_json::array();
  for (const WireMethodSummary& m : report.methods) {
    out["methods"].push_back({{"method", m.method},
                              {"known", m.known},
                              {"streaming", m.streaming},
                              {"calls", m.calls},
                              {"failed", m.failed},
                              {"traffic", TrafficJson(m.traffic)}});
  }
  out["streams"] = ordered_json::array();
  for (const WireStreamSummary& s : report.streams) {
    ordered_json stream = {{"pid", s.pid},
                           {"call", s.call},
                           {"endpoint", s.endpoint},
                           {"method", s.method},
                           {"first_line", s.first_line},
                           {"start_us", s.start_us},
                           {"last_us", s.last_us},
                           {"traffic", TrafficJson(s.traffic)}};
    if (s.code.has_value()) stream["status"] = {{"code", *s.code}, {"message", s.status_message}};
    out["streams"].push_back(std::move(stream));
  }
  out["watches"] = ordered_json::array();
  for (const WireWatchSummary& w : report.watches) {
    ordered_json watch = {{"pid", w.pid},
                          {"watch_id", w.watch_id},
                          {"key", w.key},
                          {"range_end", w.range_end},
                          {"events", w.events},
                          {"first_revision", w.first_revision},
                          {"last_revision", w.last_revision},
                          {"creates", ordered_json::array()},
                          {"ends", ordered_json::array()}};
    for (const WireWatchCreate& c : w.creates) {
      ordered_json create = {
          {"line", c.line}, {"call", c.call}, {"start_revision", c.start_revision}};
      if (c.created_revision.has_value()) create["created_revision"] = *c.created_revision;
      watch["creates"].push_back(std::move(create));
    }
    for (const WireWatchEnd& e : w.ends) {
      watch["ends"].push_back({{"line", e.line},
                               {"call", e.call},
                               {"by", e.by},
                               {"reason", e.reason},
                               {"compact_revision", e.compact_revision}});
    }
    out["watches"].push_back(std::move(watch));
  }
  out["leases"] = ordered_json::array();
  for (const WireLeaseSummary& l : report.leases) {
    out["leases"].push_back({{"pid", l.pid},
                             {"id", internal::FormatLeaseId(l.id)},
                             {"renewals", l.renewals},
                             {"answers", l.answers},
                             {"last_ttl", l.last_ttl},
                             {"min_gap_us", l.min_gap_us},
                             {"max_gap_us", l.max_gap_us}});
  }
  out["retries"] = ordered_json::array();
  for (const WireRetry& r : report.retries) {
    out["retries"].push_back({{"pid", r.pid},
                              {"method", r.method},
                              {"failed_line", r.failed_line},
                              {"failed_call", r.failed_call},
                              {"failed_code", r.failed_code},
                              {"retry_line", r.retry_line},
                              {"retry_call", r.retry_call}});
  }
  out["exit_code"] = WireAuditExitCode(report);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace etcdgrpc::cli
