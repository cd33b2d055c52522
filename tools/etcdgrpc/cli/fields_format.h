// etcdctl's -w fields output (printer_fields.go), byte for byte: one
// `"Name" : value` line per field of the response, Go's %q for strings, the
// header first. A command that has a result to print gets its fields printer
// here as one function built from FieldsHeader/FieldsKeyValue.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/simple_format.h"
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

// "ClusterID", "MemberID", "Revision", "RaftTerm" lines.
[[nodiscard]] std::string FieldsHeader(const ResponseHeader& header);
// "<prefix>Key" ... "<prefix>Lease" lines (prefix "" or "Prev").
[[nodiscard]] std::string FieldsKeyValue(const std::string& prefix, const KeyValue& kv);
// `"<name>" : <Go %q of value>`.
[[nodiscard]] std::string FieldsQuoted(const std::string& name, std::string_view value);

[[nodiscard]] std::string FieldsGet(const GetResult& result);
[[nodiscard]] std::string FieldsPut(const PutResult& result);
[[nodiscard]] std::string FieldsDelete(const DeleteResult& result);
[[nodiscard]] std::string FieldsTxn(const TxnResult& result);
// One watch response: the header, then per event its "Type", previous and current key-value.
[[nodiscard]] std::string FieldsWatch(const ResponseHeader& header,
                                      const std::vector<Event>& events);

[[nodiscard]] std::string FieldsLeaseGrant(const LeaseGrantResult& result);
[[nodiscard]] std::string FieldsLeaseRevoke(const ResponseHeader& header);
[[nodiscard]] std::string FieldsLeaseKeepAlive(const LeaseKeepAliveResult& result);
[[nodiscard]] std::string FieldsLeaseTimeToLive(const LeaseTimeToLiveResult& result);
[[nodiscard]] std::string FieldsLeaseList(const LeaseListResult& result);

[[nodiscard]] std::string FieldsMemberList(const MemberListResult& result);
// `status.endpoint` printed as given.
[[nodiscard]] std::string FieldsEndpointStatus(const std::vector<EndpointStatus>& statuses);
[[nodiscard]] std::string FieldsEndpointHealth(const std::vector<EndpointHealth>& list);
[[nodiscard]] std::string FieldsEndpointHashKV(const std::vector<EndpointHashKV>& list);
// The header, then "MemberID", "AlarmType" and a blank line per alarm.
[[nodiscard]] std::string FieldsAlarms(const AlarmResult& result);
[[nodiscard]] std::string FieldsSnapshotStatus(const SnapshotFileStatus& status);

// The auth commands that change something print their header alone
// (FieldsHeader); role get and role list print more. etcdctl has no fields
// printer for user get and user list.
[[nodiscard]] std::string FieldsRoleGet(const RoleGetResult& result);
[[nodiscard]] std::string FieldsRoleList(const RoleListResult& result);

}  // namespace etcdgrpc::cli
