// `etcdgrpc audit`: reads a JSON-lines wire log (docs/wire-audit.md) and checks the
// client's wire rules: one renewal per lease per interval, watch revisions delivered once
// and resumed without gaps; plus traffic per method and stream, watch lifecycles, retries.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace etcdgrpc::cli {

struct WireAuditOptions {
  // KeepAliveOptions::renew_fraction of the client that wrote the log: a lease is due
  // TTL x renew_fraction after its last answer.
  double renew_fraction = 1.0 / 3;
  // A renewal this much earlier than its interval on the same stream is still one per
  // interval (the writer's tick is 100 ms).
  absl::Duration early_slack = absl::Milliseconds(100);
  // A renewal sent more than this after it was due is late.
  absl::Duration late_slack = absl::Seconds(1);
};

// A line the audit could not use; the rest of the log is still audited.
struct WireAuditProblem {
  int64_t line = 0;
  // "truncated" (last line cut off), "not_json", "not_record" (a field missing or of the
  // wrong type), "version" (another format version), "unknown_method".
  std::string kind = {};
  std::string detail = {};
};

// A broken wire rule, named with the line that shows it.
struct WireAuditViolation {
  int64_t line = 0;
  // "double_renewal", "late_renewal", "repeated_revision", "out_of_order_revision",
  // "revision_gap".
  std::string kind = {};
  // The process that wrote the line (several may append to one log).
  int64_t pid = 0;
  // "lease 000000000000abcd" or "watch 3".
  std::string subject = {};
  std::string detail = {};
};

struct WireTraffic {
  int64_t sent = 0;
  int64_t sent_bytes = 0;
  int64_t received = 0;
  int64_t received_bytes = 0;
};

struct WireMethodSummary {
  std::string method = {};
  bool known = true;
  bool streaming = false;
  int64_t calls = 0;
  // Calls that ended with a status other than OK.
  int64_t failed = 0;
  WireTraffic traffic = {};
};

// One streaming call (or one call of a method the audit does not know).
struct WireStreamSummary {
  int64_t pid = 0;
  uint64_t call = 0;
  std::string endpoint = {};
  std::string method = {};
  int64_t first_line = 0;
  int64_t start_us = 0;
  int64_t last_us = 0;
  WireTraffic traffic = {};
  // The final status, if the log has it.
  std::optional<int> code = {};
  std::string status_message = {};
};

struct WireWatchCreate {
  int64_t line = 0;
  uint64_t call = 0;
  int64_t start_revision = 0;
  // The revision in etcd's created answer, if it came.
  std::optional<int64_t> created_revision = {};
};

struct WireWatchEnd {
  int64_t line = 0;
  uint64_t call = 0;
  // "client" (a cancel request) or "etcd" (a canceled answer).
  std::string by = {};
  std::string reason = {};
  int64_t compact_revision = 0;
};

struct WireWatchSummary {
  int64_t pid = 0;
  int64_t watch_id = 0;
  // The watched key and range end as in the create (protobuf JSON: base64).
  std::string key = {};
  std::string range_end = {};
  std::vector<WireWatchCreate> creates = {};
  std::vector<WireWatchEnd> ends = {};
  int64_t events = 0;
  int64_t first_revision = 0;
  int64_t last_revision = 0;
};

struct WireLeaseSummary {
  int64_t pid = 0;
  int64_t id = 0;
  // Keep-alive requests sent for it (KeepAliveOnce included: the wire cannot tell them apart).
  int64_t renewals = 0;
  int64_t answers = 0;
  // The TTL of the last answer; <= 0 means etcd said the lease is gone.
  int64_t last_ttl = 0;
  // Shortest and longest time between two renewals, in microseconds (0 with fewer than two).
  int64_t min_gap_us = 0;
  int64_t max_gap_us = 0;
};

// A unary call sent again (same method, same request) after it failed.
struct WireRetry {
  int64_t pid = 0;
  std::string method = {};
  int64_t failed_line = 0;
  uint64_t failed_call = 0;
  int failed_code = 0;
  int64_t retry_line = 0;
  uint64_t retry_call = 0;
};

struct WireAuditReport {
  int64_t lines = 0;
  int64_t records = 0;
  std::vector<WireAuditProblem> problems = {};
  std::vector<WireAuditViolation> violations = {};
  std::vector<WireMethodSummary> methods = {};  // by method name
  std::vector<WireStreamSummary> streams = {};  // by pid, call
  std::vector<WireWatchSummary> watches = {};   // by pid, watch id
  std::vector<WireLeaseSummary> leases = {};    // by pid, lease id
  std::vector<WireRetry> retries = {};          // in log order
};

// Audits a JSON-lines wire log read from `in`. Never fails: what cannot be read is a problem.
[[nodiscard]] WireAuditReport AuditWireLog(std::istream& in, const WireAuditOptions& options = {});

// The same for a file; an error only when it cannot be opened.
[[nodiscard]] absl::StatusOr<WireAuditReport> AuditWireLogFile(
    const std::string& path, const WireAuditOptions& options = {});

// The report for people (sections, one line per item) and as one JSON object.
[[nodiscard]] std::string FormatWireAuditText(const WireAuditReport& report);
[[nodiscard]] std::string FormatWireAuditJson(const WireAuditReport& report);

// 0: clean; 1: a rule broken (violations); 3: only unreadable lines (the rest is clean).
[[nodiscard]] int WireAuditExitCode(const WireAuditReport& report);

}  // namespace etcdgrpc::cli
