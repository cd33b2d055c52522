#include "cli/fields_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {
namespace {

const char* Bool(bool value) { return value ? "true" : "false"; }

// authpb.Permission_Type's String().
const char* PermissionTypeName(PermissionType type) {
  switch (type) {
    case PermissionType::kRead:
      return "READ";
    case PermissionType::kWrite:
      return "WRITE";
    case PermissionType::kReadWrite:
      return "READWRITE";
  }
  return "READ";
}

// fmt.Println(`"<name>" :`, value).
template <typename T>
std::string Line(const std::string& name, const T& value) {
  return absl::StrCat("\"", name, "\" : ", value, "\n");
}

}  // namespace

std::string FieldsQuoted(const std::string& name, std::string_view value) {
  return absl::StrCat("\"", name, "\" : ", GoQuote(value), "\n");
}

std::string FieldsHeader(const ResponseHeader& header) {
  return absl::StrCat(Line("ClusterID", header.cluster_id), Line("MemberID", header.member_id),
                      Line("Revision", header.revision), Line("RaftTerm", header.raft_term));
}

std::string FieldsKeyValue(const std::string& prefix, const KeyValue& kv) {
  return absl::StrCat(FieldsQuoted(absl::StrCat(prefix, "Key"), kv.key),
                      Line(absl::StrCat(prefix, "CreateRevision"), kv.create_revision),
                      Line(absl::StrCat(prefix, "ModRevision"), kv.mod_revision),
                      Line(absl::StrCat(prefix, "Version"), kv.version),
                      FieldsQuoted(absl::StrCat(prefix, "Value"), kv.value),
                      Line(absl::StrCat(prefix, "Lease"), kv.lease));
}

std::string FieldsGet(const GetResult& result) {
  std::string out = FieldsHeader(result.header);
  for (const KeyValue& kv : result.kvs) absl::StrAppend(&out, FieldsKeyValue("", kv));
  absl::StrAppend(&out, Line("More", Bool(result.more)), Line("Count", result.count));
  return out;
}

std::string FieldsPut(const PutResult& result) {
  std::string out = FieldsHeader(result.header);
  if (result.prev_kv.has_value()) absl::StrAppend(&out, FieldsKeyValue("Prev", *result.prev_kv));
  return out;
}

std::string FieldsDelete(const DeleteResult& result) {
  std::string out = FieldsHeader(result.header);
  absl::StrAppend(&out, Line("Deleted", result.deleted));
  for (const KeyValue& kv : result.prev_kvs) absl::StrAppend(&out, FieldsKeyValue("Prev", kv));
  return out;
}

std::string FieldsTxn(const TxnResult& result) {
  std::string out = FieldsHeader(result.header);
  absl::StrAppend(&out, Line("Succeeded", Bool(result.succeeded)));
  for (const OpResult& op : result.results) {
    if (const DeleteResult* del = op.del()) absl::StrAppend(&out, FieldsDelete(*del));
    if (const PutResult* put = op.put()) absl::StrAppend(&out, FieldsPut(*put));
    if (const GetResult* get = op.get()) absl::StrAppend(&out, FieldsGet(*get));
    // A nested txn: etcdctl cannot send one, and prints Go's %+v of it.
    if (op.txn() != nullptr) absl::StrAppend(&out, FieldsQuoted("Unknown", "nested txn"));
  }
  return out;
}

std::string FieldsWatch(const ResponseHeader& header, const std::vector<Event>& events) {
  std::string out = FieldsHeader(header);
  for (const Event& event : events) {
    absl::StrAppend(&out, Line("Type", event.type == EventType::kDelete ? "DELETE" : "PUT"));
    if (event.prev_kv.has_value()) absl::StrAppend(&out, FieldsKeyValue("Prev", *event.prev_kv));
    absl::StrAppend(&out, FieldsKeyValue("", event.kv));
  }
  return out;
}

std::string FieldsLeaseGrant(const LeaseGrantResult& result) {
  return absl::StrCat(FieldsHeader(result.header), Line("ID", result.id), Line("TTL", result.ttl));
}

std::string FieldsLeaseRevoke(const ResponseHeader& header) { return FieldsHeader(header); }

std::string FieldsLeaseKeepAlive(const LeaseKeepAliveResult& result) {
  return absl::StrCat(FieldsHeader(result.header), Line("ID", result.id), Line("TTL", result.ttl));
}

std::string FieldsLeaseTimeToLive(const LeaseTimeToLiveResult& result) {
  std::string out = absl::StrCat(FieldsHeader(result.header), Line("ID", result.id),
                                 Line("TTL", result.ttl), Line("GrantedTTL", result.granted_ttl));
  for (const std::string& key : result.keys) absl::StrAppend(&out, FieldsQuoted("Key", key));
  return out;
}

std::string FieldsLeaseList(const LeaseListResult& result) {
  std::string out = FieldsHeader(result.header);
  for (int64_t id : result.ids) absl::StrAppend(&out, Line("ID", id));
  return out;
}

std::string FieldsMemberList(const MemberListResult& result) {
  std::string out = FieldsHeader(result.header);
  for (const Member& member : result.members) {
    absl::StrAppend(&out, Line("ID", member.id), FieldsQuoted("Name", member.name));
    for (const std::string& url : member.peer_urls)
      absl::StrAppend(&out, FieldsQuoted("PeerURL", url));
    for (const std::string& url : member.client_urls) {
      absl::StrAppend(&out, FieldsQuoted("ClientURL", url));
    }
    absl::StrAppend(&out, Line("IsLearner", Bool(member.is_learner)), "\n");
  }
  return out;
}

std::string FieldsEndpointStatus(const std::vector<EndpointStatus>& statuses) {
  std::string out;
  for (const EndpointStatus& status : statuses) {
    absl::StrAppend(&out, FieldsHeader(status.header), FieldsQuoted("Version", status.version),
                    Line("DBSize", status.db_size), Line("Leader", status.leader),
                    Line("IsLearner", Bool(status.is_learner)),
                    Line("RaftIndex", status.raft_index), Line("RaftTerm", status.raft_term),
                    Line("RaftAppliedIndex", status.raft_applied_index),
                    // Go's %v of a []string.
                    Line("Errors", absl::StrCat("[", absl::StrJoin(status.errors, " "), "]")),
                    FieldsQuoted("Endpoint", status.endpoint), "\n");
  }
  return out;
}

std::string FieldsEndpointHealth(const std::vector<EndpointHealth>& list) {
  std::string out;
  for (const EndpointHealth& health : list) {
    absl::StrAppend(&out, FieldsQuoted("Endpoint", health.endpoint),
                    Line("Health", Bool(health.health)), Line("Took", health.took),
                    Line("Error", health.error), "\n");
  }
  return out;
}

std::string FieldsEndpointHashKV(const std::vector<EndpointHashKV>& list) {
  std::string out;
  for (const EndpointHashKV& entry : list) {
    absl::StrAppend(&out, FieldsHeader(entry.hash.header), FieldsQuoted("Endpoint", entry.endpoint),
                    Line("Hash", entry.hash.hash), "\n");
  }
  return out;
}

std::string FieldsAlarms(const AlarmResult& result) {
  std::string out = FieldsHeader(result.header);
  for (const AlarmMember& alarm : result.alarms) {
    absl::StrAppend(&out, Line("MemberID", alarm.member_id),
                    Line("AlarmType", std::string(AlarmTypeName(alarm.alarm))), "\n");
  }
  return out;
}

std::string FieldsSnapshotStatus(const SnapshotFileStatus& status) {
  return absl::StrCat(Line("Hash", status.hash), Line("Revision", status.revision),
                      Line("Keys", status.total_key), Line("Size", status.total_size));
}

std::string FieldsRoleGet(const RoleGetResult& result) {
  std::string out = FieldsHeader(result.header);
  for (const Permission& permission : result.permissions) {
    // fmt.Println(`"PermType" : `, name): Println's own space makes two.
    absl::StrAppend(&out, "\"PermType\" :  ", PermissionTypeName(permission.type), "\n",
                    FieldsQuoted("Key", permission.range.key()),
                    FieldsQuoted("RangeEnd", permission.range.range_end()));
  }
  return out;
}

std::string FieldsRoleList(const RoleListResult& result) {
  std::string out = absl::StrCat(FieldsHeader(result.header), "\"Roles\" :");
  for (const std::string& role : result.roles) absl::StrAppend(&out, " ", GoQuote(role));
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace etcdgrpc::cli
