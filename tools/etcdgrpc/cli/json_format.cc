#include "cli/json_format.h"

#include <string>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

// Keeps insertion order: Go writes struct fields in declaration order.
using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  // Invalid UTF-8 becomes U+FFFD, as in Go.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string Base64(const std::string& bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

// `omitempty` on every field: zero values are left out.
template <class T>
void SetIfNonZero(Json& json, const char* name, T value) {
  if (value != T{}) json[name] = value;
}

Json HeaderJson(const ResponseHeader& header) {
  Json json = Json::object();
  SetIfNonZero(json, "cluster_id", header.cluster_id);
  SetIfNonZero(json, "member_id", header.member_id);
  SetIfNonZero(json, "revision", header.revision);
  SetIfNonZero(json, "raft_term", header.raft_term);
  return json;
}

Json KeyValueJson(const KeyValue& kv) {
  Json json = Json::object();
  if (!kv.key.empty()) json["key"] = Base64(kv.key);
  SetIfNonZero(json, "create_revision", kv.create_revision);
  SetIfNonZero(json, "mod_revision", kv.mod_revision);
  SetIfNonZero(json, "version", kv.version);
  if (!kv.value.empty()) json["value"] = Base64(kv.value);
  SetIfNonZero(json, "lease", kv.lease);
  return json;
}

Json KeyValuesJson(const std::vector<KeyValue>& kvs) {
  Json json = Json::array();
  for (const KeyValue& kv : kvs) json.push_back(KeyValueJson(kv));
  return json;
}

Json GetJson(const GetResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  if (!result.kvs.empty()) json["kvs"] = KeyValuesJson(result.kvs);
  SetIfNonZero(json, "more", result.more);
  SetIfNonZero(json, "count", result.count);
  return json;
}

Json PutJson(const PutResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  if (result.prev_kv) json["prev_kv"] = KeyValueJson(*result.prev_kv);
  return json;
}

Json DeleteJson(const DeleteResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  SetIfNonZero(json, "deleted", result.deleted);
  if (!result.prev_kvs.empty()) json["prev_kvs"] = KeyValuesJson(result.prev_kvs);
  return json;
}

Json TxnJson(const TxnResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  SetIfNonZero(json, "succeeded", result.succeeded);
  if (!result.results.empty()) {
    Json responses = Json::array();
    for (const OpResult& op : result.results) {
      // Go's encoding of the ResponseOp oneof: {"Response":{"ResponseRange":{...}}}.
      Json response = Json::object();
      if (const GetResult* get = op.get()) {
        response["ResponseRange"] = GetJson(*get);
      } else if (const PutResult* put = op.put()) {
        response["ResponsePut"] = PutJson(*put);
      } else if (const DeleteResult* del = op.del()) {
        response["ResponseDeleteRange"] = DeleteJson(*del);
      } else if (const TxnResult* txn = op.txn()) {
        response["ResponseTxn"] = TxnJson(*txn);
      }
      Json wrapper = Json::object();
      wrapper["Response"] = std::move(response);
      responses.push_back(std::move(wrapper));
    }
    json["responses"] = std::move(responses);
  }
  return json;
}

Json StatusJson(const EndpointStatus& status) {
  // etcdserverpb.StatusResponse's json names, in field order.
  Json json = Json::object();
  json["header"] = HeaderJson(status.header);
  if (!status.version.empty()) json["version"] = status.version;
  SetIfNonZero(json, "dbSize", status.db_size);
  SetIfNonZero(json, "leader", status.leader);
  SetIfNonZero(json, "raftIndex", status.raft_index);
  SetIfNonZero(json, "raftTerm", status.raft_term);
  SetIfNonZero(json, "raftAppliedIndex", status.raft_applied_index);
  if (!status.errors.empty()) json["errors"] = status.errors;
  SetIfNonZero(json, "dbSizeInUse", status.db_size_in_use);
  SetIfNonZero(json, "isLearner", status.is_learner);
  return json;
}

Json MemberJson(const Member& member) {
  // gogoproto's JSON tags: "ID", "name", "peerURLs", "clientURLs",
  // "isLearner", all omitempty.
  Json entry = Json::object();
  SetIfNonZero(entry, "ID", member.id);
  if (!member.name.empty()) entry["name"] = member.name;
  if (!member.peer_urls.empty()) entry["peerURLs"] = member.peer_urls;
  if (!member.client_urls.empty()) entry["clientURLs"] = member.client_urls;
  if (member.is_learner) entry["isLearner"] = true;
  return entry;
}

Json EventJson(const Event& event) {
  Json json = Json::object();
  // mvccpb.Event_EventType: PUT = 0 is omitted, DELETE = 1.
  if (event.type == EventType::kDelete) json["type"] = 1;
  json["kv"] = KeyValueJson(event.kv);
  if (event.prev_kv) json["prev_kv"] = KeyValueJson(*event.prev_kv);
  return json;
}

}  // namespace

std::string JsonGet(const GetResult& result) { return Dump(GetJson(result)); }
std::string JsonPut(const PutResult& result) { return Dump(PutJson(result)); }
std::string JsonDelete(const DeleteResult& result) { return Dump(DeleteJson(result)); }
std::string JsonTxn(const TxnResult& result) { return Dump(TxnJson(result)); }

std::string JsonEndpointStatus(const std::vector<EndpointStatus>& statuses) {
  Json json = Json::array();
  for (const EndpointStatus& status : statuses) {
    Json entry = Json::object();
    entry["Endpoint"] = status.endpoint;
    entry["Status"] = StatusJson(status);
    json.push_back(std::move(entry));
  }
  return Dump(json);
}

// clientv3's lease responses embed *pb.ResponseHeader: its fields come first,
// at the top level.
std::string JsonLeaseGrant(const LeaseGrantResult& result) {
  Json json = HeaderJson(result.header);
  json["ID"] = result.id;
  json["TTL"] = result.ttl;
  // LeaseGrantResponse.Error: etcd never sets it on a granted lease.
  json["Error"] = "";
  return Dump(json);
}

std::string JsonLeaseRevoke(const ResponseHeader& header) {
  Json json = Json::object();
  json["header"] = HeaderJson(header);
  return Dump(json);
}

std::string JsonLeaseTimeToLive(const LeaseTimeToLiveResult& result) {
  Json json = HeaderJson(result.header);
  json["id"] = result.id;
  json["ttl"] = result.ttl;
  json["granted-ttl"] = result.granted_ttl;
  if (result.keys.empty()) {
    json["keys"] = nullptr;
  } else {
    Json keys = Json::array();
    for (const std::string& key : result.keys) keys.push_back(Base64(key));
    json["keys"] = std::move(keys);
  }
  return Dump(json);
}

std::string JsonMemberList(const MemberListResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  Json members = Json::array();
  for (const Member& member : result.members) members.push_back(MemberJson(member));
  if (!result.members.empty()) json["members"] = std::move(members);
  return Dump(json);
}

std::string JsonLeaseList(const LeaseListResult& result) {
  Json json = HeaderJson(result.header);
  Json leases = Json::array();
  for (int64_t id : result.ids) {
    Json lease = Json::object();
    lease["id"] = id;
    leases.push_back(std::move(lease));
  }
  json["leases"] = std::move(leases);
  return Dump(json);
}

std::string JsonLeaseKeepAlive(const LeaseKeepAliveResult& result) {
  Json json = HeaderJson(result.header);
  json["ID"] = result.id;
  json["TTL"] = result.ttl;
  return Dump(json);
}

std::string JsonWatchResponse(const ResponseHeader& header, const std::vector<Event>& events,
                              int64_t compact_revision, bool canceled) {
  Json json = Json::object();
  json["Header"] = HeaderJson(header);
  Json list = Json::array();
  for (const Event& event : events) list.push_back(EventJson(event));
  json["Events"] = std::move(list);
  json["CompactRevision"] = compact_revision;
  json["Canceled"] = canceled;
  json["Created"] = false;
  return Dump(json);
}

// --- Cluster and maintenance commands -----------------------------------------

namespace {

Json MembersJson(const std::vector<Member>& members) {
  Json json = Json::array();
  for (const Member& member : members) json.push_back(MemberJson(member));
  return json;
}

}  // namespace

std::string JsonMemberAdd(const MemberAddResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  json["member"] = MemberJson(result.member);
  if (!result.members.empty()) json["members"] = MembersJson(result.members);
  return Dump(json);
}

std::string JsonMemberChange(const MemberListResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  if (!result.members.empty()) json["members"] = MembersJson(result.members);
  return Dump(json);
}

std::string JsonAlarms(const AlarmResult& result) {
  Json json = Json::object();
  if (result.header != ResponseHeader{}) json["header"] = HeaderJson(result.header);
  if (!result.alarms.empty()) {
    Json alarms = Json::array();
    for (const AlarmMember& alarm : result.alarms) {
      Json entry = Json::object();
      SetIfNonZero(entry, "memberID", alarm.member_id);
      SetIfNonZero(entry, "alarm", static_cast<int>(alarm.alarm));
      alarms.push_back(std::move(entry));
    }
    json["alarms"] = std::move(alarms);
  }
  return Dump(json);
}

std::string JsonMoveLeader(const MoveLeaderResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  return Dump(json);
}

std::string JsonEndpointHealth(const std::vector<EndpointHealth>& list) {
  Json json = Json::array();
  for (const EndpointHealth& health : list) {
    Json entry = Json::object();
    entry["endpoint"] = health.endpoint;
    entry["health"] = health.health;
    entry["took"] = health.took;
    if (!health.error.empty()) entry["error"] = health.error;
    json.push_back(std::move(entry));
  }
  return Dump(json);
}

std::string JsonEndpointHashKV(const std::vector<EndpointHashKV>& list) {
  Json json = Json::array();
  for (const EndpointHashKV& entry : list) {
    Json hash = Json::object();
    hash["header"] = HeaderJson(entry.hash.header);
    SetIfNonZero(hash, "hash", entry.hash.hash);
    SetIfNonZero(hash, "compact_revision", entry.hash.compact_revision);
    Json item = Json::object();
    item["Endpoint"] = entry.endpoint;
    item["HashKV"] = std::move(hash);
    json.push_back(std::move(item));
  }
  return Dump(json);
}

std::string JsonSnapshotStatus(const SnapshotFileStatus& status) {
  Json json = Json::object();
  json["hash"] = status.hash;
  json["revision"] = status.revision;
  json["totalKey"] = status.total_key;
  json["totalSize"] = status.total_size;
  return Dump(json);
}

// --- user, role --------------------------------------------------------------

namespace {

// A repeated string field: omitempty leaves out an empty list.
Json WithStrings(const ResponseHeader& header, const char* name,
                 const std::vector<std::string>& values) {
  Json json = Json::object();
  json["header"] = HeaderJson(header);
  if (!values.empty()) json[name] = values;
  return json;
}

}  // namespace

std::string JsonAuthHeader(const ResponseHeader& header) {
  Json json = Json::object();
  json["header"] = HeaderJson(header);
  return Dump(json);
}

std::string JsonUserGet(const UserGetResult& result) {
  return Dump(WithStrings(result.header, "roles", result.roles));
}

std::string JsonUserList(const UserListResult& result) {
  return Dump(WithStrings(result.header, "users", result.users));
}

std::string JsonRoleGet(const RoleGetResult& result) {
  Json json = Json::object();
  json["header"] = HeaderJson(result.header);
  if (!result.permissions.empty()) {
    Json perms = Json::array();
    for (const Permission& permission : result.permissions) {
      // authpb.Permission's json names, all omitempty.
      Json perm = Json::object();
      SetIfNonZero(perm, "permType", static_cast<int>(permission.type));
      if (!permission.range.key().empty()) perm["key"] = Base64(permission.range.key());
      if (!permission.range.range_end().empty()) {
        perm["range_end"] = Base64(permission.range.range_end());
      }
      perms.push_back(std::move(perm));
    }
    json["perm"] = std::move(perms);
  }
  return Dump(json);
}

std::string JsonRoleList(const RoleListResult& result) {
  return Dump(WithStrings(result.header, "roles", result.roles));
}

}  // namespace etcdgrpc::cli
