// The wire audit's running state (internal to wire_audit*.cc): the calls, watches and
// leases seen so far, fed one parsed record at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "cli/wire_audit.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli::wire_audit_internal {

enum class Dir { kSend, kRecv, kEnd };

// One line of the log, its envelope checked.
struct Record {
  int64_t line = 0;
  int64_t time_us = 0;
  int64_t pid = 0;
  std::string endpoint = {};
  std::string method = {};
  uint64_t call = 0;
  Dir dir = Dir::kSend;
  int64_t bytes = 0;
  // "message" for kSend/kRecv, "status" for kEnd; an object, or null.
  nlohmann::json body = {};
};

// A protobuf JSON int64 (a string) or a plain number; 0 when absent or unreadable.
int64_t Int(const nlohmann::json& object, const char* field);

using CallKey = std::pair<int64_t, uint64_t>;  // pid, call id
using IdKey = std::pair<int64_t, int64_t>;     // pid, watch or lease id

struct CallState {
  WireStreamSummary summary = {};
  bool streaming = false;
  bool known = true;
  // Unary calls: the request, for spotting retries.
  std::string request_key = {};
  // Watch streams: the creates sent and not yet answered, oldest first (etcd answers in order).
  std::deque<int64_t> creating;
};

struct WatchState {
  WireWatchSummary summary = {};
  // The revision a re-create may start from at most: the last delivered event + 1, or what
  // a created answer or a progress answer for this watch allows. 0 while unknown.
  int64_t next = 0;
  // A stream-wide progress answer's revision + 1 (a fixed etcd lets clients resume there).
  int64_t allowed = 0;
  uint64_t call = 0;
  bool active = false;
  std::set<std::pair<int64_t, std::string>> delivered;  // revision, key
};

struct LeaseState {
  WireLeaseSummary summary = {};
  int64_t last_send_us = 0;
  uint64_t last_send_call = 0;
  bool answered = false;
  int64_t last_answer_us = 0;
  int64_t last_answered_send_us = 0;
  bool lost = false;
};

struct RequestSeen {
  int64_t line = 0;
  uint64_t call = 0;
  std::optional<int> code = {};
};

class Auditor {
 public:
  explicit Auditor(WireAuditOptions options) : options_(options) {}

  void Problem(int64_t line, std::string kind, std::string detail);
  void Add(const Record& record);
  WireAuditReport Finish(int64_t lines);

 private:
  // wire_audit.cc
  CallState& Call(const Record& record);
  void Traffic(const Record& record, CallState& call);
  void Unary(const Record& record, CallState& call);
  // wire_audit_rules.cc
  void Watch(const Record& record, CallState& call);
  void WatchCreate(const Record& record, const nlohmann::json& create);
  void WatchAnswer(const Record& record, CallState& call);
  void WatchEvents(const Record& record, WatchState& watch, const nlohmann::json& events);
  void Lease(const Record& record);
  void Violation(int64_t line, std::string kind, int64_t pid, std::string subject,
                 std::string detail);

  WireAuditOptions options_;
  WireAuditReport report_;
  std::map<std::string, WireMethodSummary> methods_;
  std::map<CallKey, CallState> calls_;
  std::map<IdKey, WatchState> watches_;
  std::map<IdKey, LeaseState> leases_;
  // pid, method + request -> the last call that sent it.
  std::map<std::pair<int64_t, std::string>, RequestSeen> requests_;
};

}  // namespace etcdgrpc::cli::wire_audit_internal
