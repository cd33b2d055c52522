// The wire audit's reading side: lines to records (bad ones become problems), traffic per
// method and stream, and retried unary calls. The watch and lease rules: wire_audit_rules.cc.
#include "cli/wire_audit.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/wire_audit_state.h"
#include "etcdgrpc/wire_log.h"
#include "etcdserverpb/rpc.pb.h"
#include "google/protobuf/descriptor.h"

namespace etcdgrpc::cli {
namespace wire_audit_internal {
namespace {

using nlohmann::json;

// "/etcdserverpb.KV/Range" in the protobuf descriptors linked into the tool; null if unknown.
const google::protobuf::MethodDescriptor* FindMethod(std::string_view method) {
  // Makes sure rpc.proto's descriptors are in the generated pool before looking up by name.
  static const google::protobuf::FileDescriptor* const kRpcProto =
      etcdserverpb::RangeRequest::descriptor()->file();
  (void)kRpcProto;
  if (method.size() < 2 || method[0] != '/') return nullptr;
  std::string name(method.substr(1));
  std::replace(name.begin(), name.end(), '/', '.');
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
}

}  // namespace

int64_t Int(const json& object, const char* field) {
  if (!object.is_object()) return 0;
  auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  int64_t value = 0;
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &value)) return value;
  return 0;
}

void Auditor::Problem(int64_t line, std::string kind, std::string detail) {
  report_.problems.push_back({.line = line, .kind = std::move(kind), .detail = std::move(detail)});
}

CallState& Auditor::Call(const Record& record) {
  auto [it, added] = calls_.try_emplace({record.pid, record.call});
  CallState& call = it->second;
  if (!added) return call;
  call.summary = {.pid = record.pid,
                  .call = record.call,
                  .endpoint = record.endpoint,
                  .method = record.method,
                  .first_line = record.line,
                  .start_us = record.time_us};
  const google::protobuf::MethodDescriptor* method = FindMethod(record.method);
  call.known = method != nullptr;
  call.streaming = method != nullptr && (method->client_streaming() || method->server_streaming());
  if (!call.known) {
    Problem(record.line, "unknown_method",
            absl::StrCat("unknown method ", record.method, " (call ", record.call, ")"));
  }
  WireMethodSummary& summary = methods_[record.method];
  summary.method = record.method;
  summary.known = call.known;
  summary.streaming = call.streaming;
  ++summary.calls;
  return call;
}

void Auditor::Traffic(const Record& record, CallState& call) {
  WireMethodSummary& method = methods_[record.method];
  call.summary.last_us = record.time_us;
  for (WireTraffic* traffic : {&method.traffic, &call.summary.traffic}) {
    if (record.dir == Dir::kSend) {
      ++traffic->sent;
      traffic->sent_bytes += record.bytes;
    } else if (record.dir == Dir::kRecv) {
      ++traffic->received;
      traffic->received_bytes += record.bytes;
    }
  }
  if (record.dir == Dir::kEnd) {
    const int code = static_cast<int>(Int(record.body, "code"));
    call.summary.code = code;
    if (record.body.is_object() && record.body.contains("message") &&
        record.body["message"].is_string()) {
      call.summary.status_message = record.body["message"].get<std::string>();
    }
    if (code != 0) ++method.failed;
  }
}

void Auditor::Unary(const Record& record, CallState& call) {
  if (record.dir == Dir::kSend) {
    // Dumped objects have sorted keys, so equal requests give equal text.
    call.request_key = absl::StrCat(record.method, "\n", record.body.dump());
    RequestSeen& seen = requests_[{record.pid, call.request_key}];
    if (seen.code.has_value() && *seen.code != 0) {
      report_.retries.push_back({.pid = record.pid,
                                 .method = record.method,
                                 .failed_line = seen.line,
                                 .failed_call = seen.call,
                                 .failed_code = *seen.code,
                                 .retry_line = record.line,
                                 .retry_call = record.call});
    }
    seen = {.line = record.line, .call = record.call, .code = std::nullopt};
  } else if (record.dir == Dir::kEnd && !call.request_key.empty()) {
    RequestSeen& seen = requests_[{record.pid, call.request_key}];
    if (seen.call == record.call) seen.code = call.summary.code;
  }
}

void Auditor::Add(const Record& record) {
  ++report_.records;
  CallState& call = Call(record);
  Traffic(record, call);
  if (record.method == "/etcdserverpb.Watch/Watch") {
    Watch(record, call);
  } else if (record.method == "/etcdserverpb.Lease/LeaseKeepAlive") {
    Lease(record);
  } else if (call.known && !call.streaming) {
    Unary(record, call);
  }
}

WireAuditReport Auditor::Finish(int64_t lines) {
  report_.lines = lines;
  for (auto& [name, method] : methods_) report_.methods.push_back(std::move(method));
  for (auto& [key, call] : calls_) {
    if (call.streaming || !call.known) report_.streams.push_back(std::move(call.summary));
  }
  for (auto& [key, watch] : watches_) report_.watches.push_back(std::move(watch.summary));
  for (auto& [key, lease] : leases_) report_.leases.push_back(std::move(lease.summary));
  return std::move(report_);
}

namespace {

// Checks the envelope of one JSON line (docs/wire-audit.md); a problem and false if unusable.
bool ParseLine(const std::string& text, int64_t line, bool last_unterminated, Auditor& auditor,
               Record* record) {
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    if (last_unterminated) {
      auditor.Problem(line, "truncated", "the last line ends before its JSON does");
    } else {
      auditor.Problem(line, "not_json", "not a JSON line");
    }
    return false;
  }
  if (!value.is_object() || !value.contains("v")) {
    auditor.Problem(line, "not_record", "not a wire log record (no \"v\")");
    return false;
  }
  if (!value["v"].is_number_integer() || value["v"].get<int64_t>() != kWireLogJsonVersion) {
    auditor.Problem(line, "version",
                    absl::StrCat("format version ", value["v"].dump(), " (this audit reads ",
                                 kWireLogJsonVersion, ")"));
    return false;
  }
  for (const char* field : {"time_us", "call", "bytes"}) {
    if (!value.contains(field) || !value[field].is_number_integer()) {
      auditor.Problem(line, "not_record", absl::StrCat("\"", field, "\" missing or not a number"));
      return false;
    }
  }
  for (const char* field : {"endpoint", "method", "dir"}) {
    if (!value.contains(field) || !value[field].is_string()) {
      auditor.Problem(line, "not_record", absl::StrCat("\"", field, "\" missing or not a string"));
      return false;
    }
  }
  const std::string dir = value["dir"].get<std::string>();
  if (dir == "send") {
    record->dir = Dir::kSend;
  } else if (dir == "recv") {
    record->dir = Dir::kRecv;
  } else if (dir == "end") {
    record->dir = Dir::kEnd;
  } else {
    auditor.Problem(line, "not_record", absl::StrCat("\"dir\" is \"", dir, "\""));
    return false;
  }
  record->line = line;
  record->time_us = value["time_us"].get<int64_t>();
  record->pid =
      value.contains("pid") && value["pid"].is_number_integer() ? value["pid"].get<int64_t>() : 0;
  record->endpoint = value["endpoint"].get<std::string>();
  record->method = value["method"].get<std::string>();
  record->call = value["call"].get<uint64_t>();
  record->bytes = value["bytes"].get<int64_t>();
  const char* body = record->dir == Dir::kEnd ? "status" : "message";
  record->body = value.contains(body) ? std::move(value[body]) : json(nullptr);
  return true;
}

}  // namespace
}  // namespace wire_audit_internal

WireAuditReport AuditWireLog(std::istream& in, const WireAuditOptions& options) {
  using wire_audit_internal::Auditor;
  Auditor auditor(options);
  std::string text;
  int64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    // getline stops at the end of the input without a newline: the last line was cut off
    // if it does not parse.
    const bool unterminated = in.eof();
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    wire_audit_internal::Record record;
    if (wire_audit_internal::ParseLine(text, line, unterminated, auditor, &record)) {
      auditor.Add(record);
    }
  }
  return auditor.Finish(line);
}

absl::StatusOr<WireAuditReport> AuditWireLogFile(const std::string& path,
                                                 const WireAuditOptions& options) {
  if (path == "-") return AuditWireLog(std::cin, options);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open wire log \"", path, "\""));
  return AuditWireLog(in, options);
}

int WireAuditExitCode(const WireAuditReport& report) {
  if (!report.violations.empty()) return 1;
  if (!report.problems.empty()) return 3;
  return 0;
}

}  // namespace etcdgrpc::cli
