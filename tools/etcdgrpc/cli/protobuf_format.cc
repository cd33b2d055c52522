#include "cli/protobuf_format.h"

#include "absl/strings/str_cat.h"
#include "authpb/auth.pb.h"
#include "cli/exit_status.h"
#include "etcdserverpb/rpc.pb.h"
#include "mvccpb/kv.pb.h"

namespace etcdgrpc::cli {
namespace {

void ProtoKeyValue(const KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_value(kv.value);
  out->set_lease(kv.lease);
}

void FillRange(const GetResult& result, etcdserverpb::RangeResponse* out) {
  ProtoHeader(result.header, out->mutable_header());
  for (const KeyValue& kv : result.kvs) ProtoKeyValue(kv, out->add_kvs());
  out->set_more(result.more);
  out->set_count(result.count);
}

void FillPut(const PutResult& result, etcdserverpb::PutResponse* out) {
  ProtoHeader(result.header, out->mutable_header());
  if (result.prev_kv.has_value()) ProtoKeyValue(*result.prev_kv, out->mutable_prev_kv());
}

void FillDelete(const DeleteResult& result, etcdserverpb::DeleteRangeResponse* out) {
  ProtoHeader(result.header, out->mutable_header());
  out->set_deleted(result.deleted);
  for (const KeyValue& kv : result.prev_kvs) ProtoKeyValue(kv, out->add_prev_kvs());
}

void FillTxn(const TxnResult& result, etcdserverpb::TxnResponse* out) {
  ProtoHeader(result.header, out->mutable_header());
  out->set_succeeded(result.succeeded);
  for (const OpResult& op : result.results) {
    etcdserverpb::ResponseOp* response = out->add_responses();
    if (const GetResult* get = op.get()) FillRange(*get, response->mutable_response_range());
    if (const PutResult* put = op.put()) FillPut(*put, response->mutable_response_put());
    if (const DeleteResult* del = op.del()) {
      FillDelete(*del, response->mutable_response_delete_range());
    }
    if (const TxnResult* txn = op.txn()) FillTxn(*txn, response->mutable_response_txn());
  }
}

void FillMember(const Member& member, etcdserverpb::Member* out) {
  out->set_id(member.id);
  out->set_name(member.name);
  for (const std::string& url : member.peer_urls) out->add_peerurls(url);
  for (const std::string& url : member.client_urls) out->add_clienturls(url);
  out->set_islearner(member.is_learner);
}

}  // namespace

void ProtoHeader(const ResponseHeader& header, etcdserverpb::ResponseHeader* out) {
  out->set_cluster_id(header.cluster_id);
  out->set_member_id(header.member_id);
  out->set_revision(header.revision);
  out->set_raft_term(header.raft_term);
}

std::string Marshal(const google::protobuf::MessageLite& message) {
  std::string bytes;
  (void)message.SerializeToString(&bytes);
  return bytes;
}

std::string ProtobufGet(const GetResult& result) {
  etcdserverpb::RangeResponse response;
  FillRange(result, &response);
  return Marshal(response);
}

std::string ProtobufPut(const PutResult& result) {
  etcdserverpb::PutResponse response;
  FillPut(result, &response);
  return Marshal(response);
}

std::string ProtobufDelete(const DeleteResult& result) {
  etcdserverpb::DeleteRangeResponse response;
  FillDelete(result, &response);
  return Marshal(response);
}

std::string ProtobufTxn(const TxnResult& result) {
  etcdserverpb::TxnResponse response;
  FillTxn(result, &response);
  return Marshal(response);
}

std::string ProtobufWatch(const ResponseHeader& header, const std::vector<Event>& events,
                          int64_t compact_revision, bool canceled) {
  etcdserverpb::WatchResponse response;
  ProtoHeader(header, response.mutable_header());
  for (const Event& event : events) {
    mvccpb::Event* out = response.add_events();
    out->set_type(event.type == EventType::kDelete ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
    ProtoKeyValue(event.kv, out->mutable_kv());
    if (event.prev_kv.has_value()) ProtoKeyValue(*event.prev_kv, out->mutable_prev_kv());
  }
  response.set_compact_revision(compact_revision);
  response.set_canceled(canceled);
  return Marshal(response);
}

std::string ProtobufMemberList(const MemberListResult& result) {
  etcdserverpb::MemberListResponse response;
  ProtoHeader(result.header, response.mutable_header());
  for (const Member& member : result.members) FillMember(member, response.add_members());
  return Marshal(response);
}

std::string ProtobufMemberAdd(const MemberAddResult& result) {
  etcdserverpb::MemberAddResponse response;
  ProtoHeader(result.header, response.mutable_header());
  FillMember(result.member, response.mutable_member());
  for (const Member& member : result.members) FillMember(member, response.add_members());
  return Marshal(response);
}

std::string ProtobufAlarms(const AlarmResult& result, bool with_header) {
  etcdserverpb::AlarmResponse response;
  if (with_header) ProtoHeader(result.header, response.mutable_header());
  for (const AlarmMember& alarm : result.alarms) {
    etcdserverpb::AlarmMember* out = response.add_alarms();
    out->set_memberid(alarm.member_id);
    out->set_alarm(static_cast<etcdserverpb::AlarmType>(alarm.alarm));
  }
  return Marshal(response);
}

std::string ProtobufMoveLeader(const MoveLeaderResult& result) {
  etcdserverpb::MoveLeaderResponse response;
  // etcd 3.4 answers MoveLeader without a header (read back as all zero).
  if (result.header != ResponseHeader{}) ProtoHeader(result.header, response.mutable_header());
  return Marshal(response);
}

std::string ProtobufAuthHeader(const ResponseHeader& header) {
  etcdserverpb::AuthUserAddResponse response;
  ProtoHeader(header, response.mutable_header());
  return Marshal(response);
}

std::string ProtobufUserGet(const UserGetResult& result) {
  etcdserverpb::AuthUserGetResponse response;
  ProtoHeader(result.header, response.mutable_header());
  for (const std::string& role : result.roles) response.add_roles(role);
  return Marshal(response);
}

std::string ProtobufUserList(const UserListResult& result) {
  etcdserverpb::AuthUserListResponse response;
  ProtoHeader(result.header, response.mutable_header());
  for (const std::string& user : result.users) response.add_users(user);
  return Marshal(response);
}

std::string ProtobufRoleGet(const RoleGetResult& result) {
  etcdserverpb::AuthRoleGetResponse response;
  ProtoHeader(result.header, response.mutable_header());
  for (const Permission& permission : result.permissions) {
    authpb::Permission* out = response.add_perm();
    out->set_permtype(static_cast<authpb::Permission::Type>(permission.type));
    out->set_key(permission.range.key());
    out->set_range_end(permission.range.range_end());
  }
  return Marshal(response);
}

std::string ProtobufRoleList(const RoleListResult& result) {
  etcdserverpb::AuthRoleListResponse response;
  ProtoHeader(result.header, response.mutable_header());
  for (const std::string& role : result.roles) response.add_roles(role);
  return Marshal(response);
}

std::string ProtobufHeaderOnly(const ResponseHeader& header) {
  etcdserverpb::ResponseHeader message;
  ProtoHeader(header, &message);
  return Marshal(message);
}

absl::Status ProtobufLeaseRevoke(const ResponseHeader& header) {
  // gogoproto's CompactTextString of the header: "name:value " per set field.
  std::string text;
  if (header.cluster_id != 0) absl::StrAppend(&text, "cluster_id:", header.cluster_id, " ");
  if (header.member_id != 0) absl::StrAppend(&text, "member_id:", header.member_id, " ");
  if (header.revision != 0) absl::StrAppend(&text, "revision:", header.revision, " ");
  if (header.raft_term != 0) absl::StrAppend(&text, "raft_term:", header.raft_term, " ");
  return CliError(
      kExitBadFeature,
      absl::StrCat("marshal unsupported for type clientv3.LeaseRevokeResponse ({", text, "})"));
}

}  // namespace etcdgrpc::cli
