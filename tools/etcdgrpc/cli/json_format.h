// etcdctl's -w json output: Go's encoding/json of the etcd responses, i.e.
// proto field names, zero fields omitted, 64-bit ids as plain numbers, keys
// and values in base64, one line per response.
#pragma once

#include <string>
#include <vector>

#include "cli/simple_format.h"
#include "cli/snapshot_file_status.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/cluster.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/watch.h"

namespace etcdgrpc::cli {

// Each returns one line, newline included.
[[nodiscard]] std::string JsonGet(const GetResult& result);
[[nodiscard]] std::string JsonPut(const PutResult& result);
[[nodiscard]] std::string JsonDelete(const DeleteResult& result);
[[nodiscard]] std::string JsonTxn(const TxnResult& result);
// [{"Endpoint": ..., "Status": {...}}, ...] with `status.endpoint` as given.
[[nodiscard]] std::string JsonEndpointStatus(const std::vector<EndpointStatus>& statuses);
// As etcdctl's json printer marshals a MemberListResponse.
[[nodiscard]] std::string JsonMemberList(const MemberListResult& result);

// Lease commands. etcdctl prints clientv3's response structs, which embed the
// header (its fields at the top level) and name the rest their own way:
// grant {...header, "ID", "TTL", "Error"}, keep-alive {...header, "ID", "TTL"},
// timetolive {...header, "id", "ttl", "granted-ttl", "keys" (base64, null if
// none)}, list {...header, "leases": [{"id"}...]}; revoke prints etcd's own
// response, {"header": {...}}.
[[nodiscard]] std::string JsonLeaseGrant(const LeaseGrantResult& result);
[[nodiscard]] std::string JsonLeaseRevoke(const ResponseHeader& header);
[[nodiscard]] std::string JsonLeaseTimeToLive(const LeaseTimeToLiveResult& result);
[[nodiscard]] std::string JsonLeaseList(const LeaseListResult& result);
[[nodiscard]] std::string JsonLeaseKeepAlive(const LeaseKeepAliveResult& result);

// One clientv3.WatchResponse: {"Header": {...}, "Events": [...],
// "CompactRevision": n, "Canceled": b, "Created": false}. Events have
// mvccpb's names ("type" only for DELETE, "kv", "prev_kv"). etcdctl never asks
// for created notifications, so "Created" is always false.
[[nodiscard]] std::string JsonWatchResponse(const ResponseHeader& header,
                                            const std::vector<Event>& events,
                                            int64_t compact_revision = 0, bool canceled = false);

// --- Cluster and maintenance commands -----------------------------------------
// etcd's own responses as etcdctl marshals them: {"header", "member", "members"};
// {"header", "members"} for remove, update and promote; {"header", "alarms":
// [{"memberID", "alarm" (a number)}]} ("header" left out when empty: the
// all-alarms disarm has none); move-leader {"header"}.
[[nodiscard]] std::string JsonMemberAdd(const MemberAddResult& result);
[[nodiscard]] std::string JsonMemberChange(const MemberListResult& result);
[[nodiscard]] std::string JsonAlarms(const AlarmResult& result);
[[nodiscard]] std::string JsonMoveLeader(const MoveLeaderResult& result);
// etcdctl's own structs: [{"endpoint", "health", "took", "error" (omitted
// when empty)}], [{"Endpoint", "HashKV": {"header", "hash", "compact_revision"}}],
// {"hash", "revision", "totalKey", "totalSize"}.
[[nodiscard]] std::string JsonEndpointHealth(const std::vector<EndpointHealth>& list);
[[nodiscard]] std::string JsonEndpointHashKV(const std::vector<EndpointHashKV>& list);
[[nodiscard]] std::string JsonSnapshotStatus(const SnapshotFileStatus& status);
// --- user, role: etcd's Auth responses as etcdctl marshals them -------------
// {"header": {...}}: every user and role command that answers with a header only.
[[nodiscard]] std::string JsonAuthHeader(const ResponseHeader& header);
// {"header", "roles"}; roles left out when there are none.
[[nodiscard]] std::string JsonUserGet(const UserGetResult& result);
// {"header", "users"}.
[[nodiscard]] std::string JsonUserList(const UserListResult& result);
// {"header", "perm": [{"permType" (READ, 0, left out), "key", "range_end"
// (base64, left out when empty)}]}.
[[nodiscard]] std::string JsonRoleGet(const RoleGetResult& result);
// {"header", "roles"}.
[[nodiscard]] std::string JsonRoleList(const RoleListResult& result);

}  // namespace etcdgrpc::cli
