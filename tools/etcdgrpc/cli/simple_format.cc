#include "cli/simple_format.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/go_text.h"
#include "cli/lease_id.h"
#include "common/lease_id.h"

namespace etcdgrpc::cli {
namespace {

std::string Hex(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() * 4);
  for (char c : bytes) {
    absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
  }
  return out;
}

}  // namespace

std::string SimpleKeyValue(const KeyValue& kv, const SimpleOptions& options) {
  std::string out;
  if (!options.value_only) absl::StrAppend(&out, options.hex ? Hex(kv.key) : kv.key, "\n");
  absl::StrAppend(&out, options.hex ? Hex(kv.value) : kv.value, "\n");
  return out;
}

std::string SimpleGet(const GetResult& result, const SimpleOptions& options) {
  std::string out;
  for (const KeyValue& kv : result.kvs) out += SimpleKeyValue(kv, options);
  return out;
}

std::string SimpleCount(const GetResult& result) { return absl::StrCat(result.count, "\n"); }

std::string SimplePut(const PutResult& result, const SimpleOptions& options) {
  std::string out = "OK\n";
  if (result.prev_kv) out += SimpleKeyValue(*result.prev_kv, options);
  return out;
}

std::string SimpleDelete(const DeleteResult& result, const SimpleOptions& options) {
  std::string out = absl::StrCat(result.deleted, "\n");
  for (const KeyValue& kv : result.prev_kvs) out += SimpleKeyValue(kv, options);
  return out;
}

std::string SimpleTxn(const TxnResult& result, const SimpleOptions& options) {
  std::string out = result.succeeded ? "SUCCESS\n" : "FAILURE\n";
  for (const OpResult& op : result.results) {
    out += "\n";
    if (const GetResult* get = op.get()) {
      out += SimpleGet(*get, options);
    } else if (const PutResult* put = op.put()) {
      out += SimplePut(*put, options);
    } else if (const DeleteResult* del = op.del()) {
      out += SimpleDelete(*del, options);
    } else if (const TxnResult* txn = op.txn()) {
      // etcdctl cannot send nested transactions; print them the same way.
      out += SimpleTxn(*txn, options);
    }
  }
  return out;
}

std::vector<std::string> EndpointStatusColumns(const EndpointStatus& status) {
  // etcdctl compares the raw fields (no "leader known" check).
  const bool is_leader = status.leader == status.header.member_id;
  return {status.endpoint,
          absl::StrFormat("%x", status.header.member_id),
          status.version,
          HumanizeBytes(static_cast<uint64_t>(status.db_size)),
          is_leader ? "true" : "false",
          status.is_learner ? "true" : "false",
          absl::StrCat(status.raft_term),
          absl::StrCat(status.raft_index),
          absl::StrCat(status.raft_applied_index),
          absl::StrJoin(status.errors, ", ")};
}

std::string SimpleEndpointStatus(const std::vector<EndpointStatus>& statuses) {
  std::string out;
  for (const EndpointStatus& status : statuses) {
    absl::StrAppend(&out, absl::StrJoin(EndpointStatusColumns(status), ", "), "\n");
  }
  return out;
}

std::string SimpleLeaseGrant(const LeaseGrantResult& result) {
  return absl::StrCat("lease ", internal::FormatLeaseId(result.id), " granted with TTL(",
                      result.ttl, "s)\n");
}

std::string SimpleLeaseRevoke(int64_t id) {
  return absl::StrCat("lease ", internal::FormatLeaseId(id), " revoked\n");
}

std::string SimpleLeaseTimeToLive(const LeaseTimeToLiveResult& result, bool with_keys) {
  if (result.granted_ttl == 0 && result.ttl == -1) {
    return absl::StrCat("lease ", internal::FormatLeaseId(result.id), " already expired\n");
  }
  std::string out = absl::StrCat("lease ", internal::FormatLeaseId(result.id), " granted with TTL(",
                                 result.granted_ttl, "s), remaining(", result.ttl, "s)");
  if (with_keys) absl::StrAppend(&out, ", attached keys([", absl::StrJoin(result.keys, " "), "])");
  return out + "\n";
}

std::string SimpleLeaseList(const LeaseListResult& result) {
  std::string out = absl::StrCat("found ", result.ids.size(), " leases\n");
  for (int64_t id : result.ids) absl::StrAppend(&out, internal::FormatLeaseId(id), "\n");
  return out;
}

std::string SimpleLeaseKeepAlive(int64_t id, int64_t ttl) {
  return absl::StrCat("lease ", internal::FormatLeaseId(id), " keepalived with TTL(", ttl, ")\n");
}

std::string SimpleLeaseLost(int64_t id) {
  return absl::StrCat("lease ", internal::FormatLeaseId(id), " expired or revoked.\n");
}

std::string SimpleWatchEvents(const std::vector<Event>& events, const SimpleOptions& options) {
  std::string out;
  for (const Event& event : events) {
    out += event.type == EventType::kDelete ? "DELETE\n" : "PUT\n";
    if (event.prev_kv) out += SimpleKeyValue(*event.prev_kv, options);
    out += SimpleKeyValue(event.kv, options);
  }
  return out;
}

std::string SimpleWatchProgress(int64_t revision) {
  return absl::StrCat("progress notify: ", revision, "\n");
}

std::string HumanizeBytes(uint64_t bytes) {
  // Same arithmetic as go-humanize's humanateBytes(s, 1000, ...).
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return absl::StrCat(bytes, " B");
  const double size = static_cast<double>(bytes);
  const double exponent = std::floor(std::log(size) / std::log(1000.0));
  const double value = std::floor(size / std::pow(1000.0, exponent) * 10 + 0.5) / 10;
  const char* unit = kUnits[static_cast<int>(exponent)];
  char buffer[64];
  if (value < 10) {
    std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, unit);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.0f %s", value, unit);
  }
  return buffer;
}

// --- Cluster and maintenance commands -----------------------------------------

std::string SimpleMemberAdd(const MemberAddResult& result, const std::string& name,
                            const std::string& peer_urls) {
  std::string out = absl::StrFormat("Member %16x added to cluster %16x\n", result.member.id,
                                    result.header.cluster_id);
  std::vector<std::string> initial_cluster;
  for (const Member& member : result.members) {
    for (const std::string& url : member.peer_urls) {
      initial_cluster.push_back(
          absl::StrCat(member.id == result.member.id ? name : member.name, "=", url));
    }
  }
  absl::StrAppend(&out, "\nETCD_NAME=", GoQuote(name), "\n");
  absl::StrAppend(&out, "ETCD_INITIAL_CLUSTER=", GoQuote(absl::StrJoin(initial_cluster, ",")),
                  "\n");
  absl::StrAppend(&out, "ETCD_INITIAL_ADVERTISE_PEER_URLS=", GoQuote(peer_urls), "\n");
  absl::StrAppend(&out, "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n");
  return out;
}

std::string SimpleMemberChange(uint64_t id, const ResponseHeader& header, const std::string& verb) {
  return absl::StrFormat("Member %16x %s cluster %16x\n", id, verb, header.cluster_id);
}

std::string SimpleAlarms(const AlarmResult& result) {
  std::string out;
  for (const AlarmMember& alarm : result.alarms) {
    // golang/protobuf's compact text: set fields only, each followed by a space.
    if (alarm.member_id != 0) absl::StrAppend(&out, "memberID:", alarm.member_id, " ");
    if (alarm.alarm != AlarmType::kNone) {
      absl::StrAppend(&out, "alarm:", std::string(AlarmTypeName(alarm.alarm)), " ");
    }
    out += "\n";
  }
  return out;
}

std::string SimpleMoveLeader(uint64_t from, uint64_t to) {
  return absl::StrFormat("Leadership transferred from %x to %x\n", from, to);
}

std::string SimpleEndpointHealth(const std::vector<EndpointHealth>& list) {
  std::string out;
  for (const EndpointHealth& health : list) {
    if (health.error.empty()) {
      absl::StrAppend(&out, health.endpoint,
                      " is healthy: successfully committed proposal: took = ", health.took, "\n");
    } else {
      absl::StrAppend(&out, health.endpoint,
                      " is unhealthy: failed to commit proposal: ", health.error, "\n");
    }
  }
  return out;
}

std::string SimpleEndpointHashKV(const std::vector<EndpointHashKV>& list) {
  std::string out;
  for (const EndpointHashKV& entry : list) {
    absl::StrAppend(&out, entry.endpoint, ", ", entry.hash.hash, "\n");
  }
  return out;
}

std::vector<std::string> SnapshotStatusColumns(const SnapshotFileStatus& status) {
  return {absl::StrFormat("%x", status.hash), absl::StrCat(status.revision),
          absl::StrCat(status.total_key), HumanizeBytes(static_cast<uint64_t>(status.total_size))};
}

std::string SimpleSnapshotStatus(const SnapshotFileStatus& status) {
  return absl::StrCat(absl::StrJoin(SnapshotStatusColumns(status), ", "), "\n");
}

// --- user, role --------------------------------------------------------------

std::string SimpleUserAdd(const std::string& name) {
  return absl::StrCat("User ", name, " created\n");
}

std::string SimpleUserGet(const std::string& name, const UserGetResult& result) {
  std::string out = absl::StrCat("User: ", name, "\nRoles:");
  for (const std::string& role : result.roles) absl::StrAppend(&out, " ", role);
  return out + "\n";
}

std::string SimpleUserList(const UserListResult& result) {
  std::string out;
  for (const std::string& user : result.users) absl::StrAppend(&out, user, "\n");
  return out;
}

std::string SimpleUserDelete(const std::string& name) {
  return absl::StrCat("User ", name, " deleted\n");
}

std::string SimpleUserChangePassword() { return "Password updated\n"; }

std::string SimpleUserGrantRole(const std::string& user, const std::string& role) {
  return absl::StrCat("Role ", role, " is granted to user ", user, "\n");
}

std::string SimpleUserRevokeRole(const std::string& user, const std::string& role) {
  return absl::StrCat("Role ", role, " is revoked from user ", user, "\n");
}

std::string SimpleRoleAdd(const std::string& role) {
  return absl::StrCat("Role ", role, " created\n");
}

std::string SimpleRoleGet(const std::string& role, const RoleGetResult& result) {
  auto line = [](const KeyRange& range) {
    const std::string& key = range.key();
    const std::string& end = range.range_end();
    if (end.empty()) return absl::StrCat("\t", key, "\n");
    std::string out = end == std::string(1, '\0') ? absl::StrCat("\t[", key, ", <open ended>")
                                                  : absl::StrCat("\t[", key, ", ", end, ")");
    if (PrefixRangeEnd(key) == end) absl::StrAppend(&out, " (prefix ", key, ")");
    return out + "\n";
  };
  std::string out = absl::StrCat("Role ", role, "\nKV Read:\n");
  for (const Permission& permission : result.permissions) {
    if (permission.type != PermissionType::kWrite) out += line(permission.range);
  }
  out += "KV Write:\n";
  for (const Permission& permission : result.permissions) {
    if (permission.type != PermissionType::kRead) out += line(permission.range);
  }
  return out;
}

std::string SimpleRoleList(const RoleListResult& result) {
  std::string out;
  for (const std::string& role : result.roles) absl::StrAppend(&out, role, "\n");
  return out;
}

std::string SimpleRoleDelete(const std::string& role) {
  return absl::StrCat("Role ", role, " deleted\n");
}

std::string SimpleRoleGrantPermission(const std::string& role) {
  return absl::StrCat("Role ", role, " updated\n");
}

std::string SimpleRoleRevokePermission(const std::string& role, const std::string& key,
                                       const std::string& range_end) {
  if (range_end.empty()) {
    return absl::StrCat("Permission of key ", key, " is revoked from role ", role, "\n");
  }
  if (range_end != std::string(1, '\0')) {
    return absl::StrCat("Permission of range [", key, ", ", range_end, ") is revoked from role ",
                        role, "\n");
  }
  return absl::StrCat("Permission of range [", key, ", <open ended> is revoked from role ", role,
                      "\n");
}

}  // namespace etcdgrpc::cli
