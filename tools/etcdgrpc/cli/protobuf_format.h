// etcdctl's -w protobuf output (printer_protobuf.go), byte for byte: the
// etcdserverpb response, rebuilt from the typed result and marshaled, without
// a newline. A command that has a result gets its protobuf printer here as one
// function that fills the response message (ProtoHeader for its header) and
// returns Marshal(message).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/cluster.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/types.h"
#include "etcdgrpc/watch.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace etcdserverpb {
class ResponseHeader;
}  // namespace etcdserverpb

namespace etcdgrpc::cli {

// Fills an etcdserverpb header (the message is present even when all zero, as
// etcd sends it).
void ProtoHeader(const ResponseHeader& header, etcdserverpb::ResponseHeader* out);
// The message's wire bytes (field order, zero values left out: what gogoproto
// writes).
[[nodiscard]] std::string Marshal(const google::protobuf::MessageLite& message);

[[nodiscard]] std::string ProtobufGet(const GetResult& result);
[[nodiscard]] std::string ProtobufPut(const PutResult& result);
[[nodiscard]] std::string ProtobufDelete(const DeleteResult& result);
[[nodiscard]] std::string ProtobufTxn(const TxnResult& result);
// One etcdserverpb.WatchResponse as etcdctl rebuilds it (no watch id, never "created").
[[nodiscard]] std::string ProtobufWatch(const ResponseHeader& header,
                                        const std::vector<Event>& events,
                                        int64_t compact_revision = 0, bool canceled = false);
// Member remove, update and promote too: their responses have the same fields
// and numbers ({header, members}).
[[nodiscard]] std::string ProtobufMemberList(const MemberListResult& result);
[[nodiscard]] std::string ProtobufMemberAdd(const MemberAddResult& result);
// `with_header` false when etcd sent none (etcd 3.4 never does for Alarm, and
// clientv3 builds alarm disarm's answer without one): etcdctl marshals none.
[[nodiscard]] std::string ProtobufAlarms(const AlarmResult& result, bool with_header);
// No header when etcd sent none (etcd 3.4 never does for MoveLeader).
[[nodiscard]] std::string ProtobufMoveLeader(const MoveLeaderResult& result);

// The auth commands that change something answer with a header alone
// ({header = 1}, as every Auth*Response of theirs).
[[nodiscard]] std::string ProtobufAuthHeader(const ResponseHeader& header);
[[nodiscard]] std::string ProtobufUserGet(const UserGetResult& result);
[[nodiscard]] std::string ProtobufUserList(const UserListResult& result);
[[nodiscard]] std::string ProtobufRoleGet(const RoleGetResult& result);
[[nodiscard]] std::string ProtobufRoleList(const RoleListResult& result);

// etcdctl's lease grant, keep-alive, timetolive and list responses are
// clientv3 structs whose only Marshal is their embedded header's: etcdctl
// prints the marshaled header alone.
[[nodiscard]] std::string ProtobufHeaderOnly(const ResponseHeader& header);
// lease revoke's response type has no Marshal at all: etcdctl's error (exit
// code 4) "marshal unsupported for type clientv3.LeaseRevokeResponse ({<header
// as compact proto text>})".
[[nodiscard]] absl::Status ProtobufLeaseRevoke(const ResponseHeader& header);

}  // namespace etcdgrpc::cli
