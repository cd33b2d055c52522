// etcdctl's default ("simple") output, byte for byte: raw keys and values one
// per line, "OK" for puts, the deleted count, SUCCESS/FAILURE for txns, and the
// comma-separated endpoint status line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/snapshot_file_status.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/cluster.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/types.h"
#include "etcdgrpc/watch.h"

namespace etcdgrpc::cli {

struct SimpleOptions {
  // --hex: keys and values as \xNN escapes.
  bool hex = false;
  // get --print-value-only.
  bool value_only = false;
};

[[nodiscard]] std::string SimpleKeyValue(const KeyValue& kv, const SimpleOptions& options);
[[nodiscard]] std::string SimpleGet(const GetResult& result, const SimpleOptions& options);
// get --count-only: the count on one line (etcdctl 3.4 has no --count-only;
// 3.5 prints it only with -w fields).
[[nodiscard]] std::string SimpleCount(const GetResult& result);
[[nodiscard]] std::string SimplePut(const PutResult& result, const SimpleOptions& options);
[[nodiscard]] std::string SimpleDelete(const DeleteResult& result, const SimpleOptions& options);
[[nodiscard]] std::string SimpleTxn(const TxnResult& result, const SimpleOptions& options);

// The columns of `endpoint status` (also used by the table output):
// endpoint, ID, version, db size, is leader, is learner, raft term,
// raft index, raft applied index, errors. `status.endpoint` is printed as is.
[[nodiscard]] std::vector<std::string> EndpointStatusColumns(const EndpointStatus& status);
[[nodiscard]] std::string SimpleEndpointStatus(const std::vector<EndpointStatus>& statuses);

// Lease commands (etcdctl's simplePrinter); ids as LeaseIdHex (lease_id.h).
// "lease <id> granted with TTL(<ttl>s)".
[[nodiscard]] std::string SimpleLeaseGrant(const LeaseGrantResult& result);
// "lease <id> revoked".
[[nodiscard]] std::string SimpleLeaseRevoke(int64_t id);
// "lease <id> granted with TTL(<granted>s), remaining(<ttl>s)[, attached
// keys([k1 k2])]", or "lease <id> already expired" for a lease etcd does not
// have (granted TTL 0, TTL -1). Keys are printed raw, as Go's %v does.
[[nodiscard]] std::string SimpleLeaseTimeToLive(const LeaseTimeToLiveResult& result,
                                                bool with_keys);
// "found <n> leases" and one id per line.
[[nodiscard]] std::string SimpleLeaseList(const LeaseListResult& result);
// "lease <id> keepalived with TTL(<ttl>)" (no unit, as etcdctl prints it).
[[nodiscard]] std::string SimpleLeaseKeepAlive(int64_t id, int64_t ttl);
// What `lease keep-alive` prints when it stops keeping a lost lease.
[[nodiscard]] std::string SimpleLeaseLost(int64_t id);

// One watch response: per event its type ("PUT"/"DELETE"), then the previous
// key-value (when etcd sent one), then the key-value, as SimpleKeyValue does.
[[nodiscard]] std::string SimpleWatchEvents(const std::vector<Event>& events,
                                            const SimpleOptions& options);
// etcdctl 3.5's line for a progress notification (3.4 has no --progress-notify).
[[nodiscard]] std::string SimpleWatchProgress(int64_t revision);

// --- user, role (etcdctl's simplePrinter); names and keys printed raw --------
// "User <name> created".
[[nodiscard]] std::string SimpleUserAdd(const std::string& name);
// "User: <name>", then "Roles:" and " <role>" for each.
[[nodiscard]] std::string SimpleUserGet(const std::string& name, const UserGetResult& result);
// One user per line.
[[nodiscard]] std::string SimpleUserList(const UserListResult& result);
// "User <name> deleted".
[[nodiscard]] std::string SimpleUserDelete(const std::string& name);
// "Password updated".
[[nodiscard]] std::string SimpleUserChangePassword();
// "Role <role> is granted to user <user>".
[[nodiscard]] std::string SimpleUserGrantRole(const std::string& user, const std::string& role);
// "Role <role> is revoked from user <user>".
[[nodiscard]] std::string SimpleUserRevokeRole(const std::string& user, const std::string& role);
// "Role <role> created".
[[nodiscard]] std::string SimpleRoleAdd(const std::string& role);
// "Role <role>", "KV Read:" and the read permissions, "KV Write:" and the
// write ones, each "\t<key>" or "\t[<key>, <end>)" / "\t[<key>, <open ended>",
// with " (prefix <key>)" when the range is exactly the key's prefix.
[[nodiscard]] std::string SimpleRoleGet(const std::string& role, const RoleGetResult& result);
// One role per line.
[[nodiscard]] std::string SimpleRoleList(const RoleListResult& result);
// "Role <role> deleted".
[[nodiscard]] std::string SimpleRoleDelete(const std::string& role);
// "Role <role> updated".
[[nodiscard]] std::string SimpleRoleGrantPermission(const std::string& role);
// "Permission of key <key> is revoked from role <role>", or "of range [<key>,
// <end>)" / "of range [<key>, <open ended>" for a range; `key` as the user typed
// it, `range_end` as sent.
[[nodiscard]] std::string SimpleRoleRevokePermission(const std::string& role,
                                                     const std::string& key,
                                                     const std::string& range_end);

// go-humanize's Bytes(): SI units, e.g. 32768 -> "33 kB", 1500 -> "1.5 kB".
[[nodiscard]] std::string HumanizeBytes(uint64_t bytes);

// --- Cluster and maintenance commands -----------------------------------------

// One line of `endpoint health` (etcdctl's epHealth): took is Go's duration text.
struct EndpointHealth {
  std::string endpoint = {};
  bool health = false;
  std::string took = {};
  std::string error = {};
};

// One line of `endpoint hashkv` (etcdctl's epHashKV).
struct EndpointHashKV {
  std::string endpoint = {};
  HashKVResult hash = {};
};

// "Member <id %16x> added to cluster <cluster id %16x>", then the environment
// a new member starts with (ETCD_NAME, ETCD_INITIAL_CLUSTER, ...), where
// `name` and `peer_urls` are the arguments as given.
[[nodiscard]] std::string SimpleMemberAdd(const MemberAddResult& result, const std::string& name,
                                          const std::string& peer_urls);
// "Member <id %16x> <verb> cluster <cluster id %16x>": verb "removed from",
// "updated in" or "promoted in".
[[nodiscard]] std::string SimpleMemberChange(uint64_t id, const ResponseHeader& header,
                                             const std::string& verb);
// One line per alarm, as Go's %+v of the AlarmMember message prints it.
[[nodiscard]] std::string SimpleAlarms(const AlarmResult& result);
// "Leadership transferred from <hex> to <hex>".
[[nodiscard]] std::string SimpleMoveLeader(uint64_t from, uint64_t to);
// etcdctl writes these lines to stderr: "<ep> is healthy: successfully committed
// proposal: took = <took>" or "<ep> is unhealthy: failed to commit proposal: <error>".
[[nodiscard]] std::string SimpleEndpointHealth(const std::vector<EndpointHealth>& list);
// "<endpoint>, <hash>" per endpoint.
[[nodiscard]] std::string SimpleEndpointHashKV(const std::vector<EndpointHashKV>& list);
// The columns of `snapshot status`: hash (hex), revision, total keys, total size.
[[nodiscard]] std::vector<std::string> SnapshotStatusColumns(const SnapshotFileStatus& status);
[[nodiscard]] std::string SimpleSnapshotStatus(const SnapshotFileStatus& status);

}  // namespace etcdgrpc::cli
