// Every unary etcd RPC the client makes, as a descriptor for the call engine
// (unary_call.h): the full method name (errors, wire log), whether it may be
// repeated on another endpoint, and the stub member that makes it, blocking
// and on gRPC's callback API. A new RPC is one line here.
#pragma once

#include <functional>
#include <utility>

#include "absl/strings/string_view.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "lib/internal/connection.h"

namespace etcdgrpc::internal {

enum class Retry {
  kSafe,   // reads: repeating cannot change anything
  kWrite,  // writes: repeat only if ClientOptions::retry_writes
};

template <class Req, class Resp>
struct UnaryRpc {
  using Request = Req;
  using Response = Resp;
  absl::string_view method;
  Retry retry;
  grpc::Status (*sync)(EndpointStubs&, grpc::ClientContext*, const Request&, Response*);
  void (*async)(EndpointStubs&, grpc::ClientContext*, const Request*, Response*,
                std::function<void(grpc::Status)>);
};

// service: the EndpointStubs member (kv, lease, ...); Service: etcd's service
// name; Method: the RPC; Req/Resp: etcdserverpb message types.
#define ETCDGRPC_UNARY_RPC(name, service, Service, Method, Req, Resp, retry)                \
  inline constexpr UnaryRpc<etcdserverpb::Req, etcdserverpb::Resp> name {                   \
    "/etcdserverpb." #Service "/" #Method, retry,                                           \
        [](EndpointStubs& stubs, grpc::ClientContext* context, const etcdserverpb::Req& in, \
           etcdserverpb::Resp* out) { return stubs.service->Method(context, in, out); },    \
        [](EndpointStubs& stubs, grpc::ClientContext* context, const etcdserverpb::Req* in, \
           etcdserverpb::Resp* out, std::function<void(grpc::Status)> done) {               \
          stubs.service->async()->Method(context, in, out, std::move(done));                \
        }                                                                                   \
  }

ETCDGRPC_UNARY_RPC(kRangeRpc, kv, KV, Range, RangeRequest, RangeResponse, Retry::kSafe);
ETCDGRPC_UNARY_RPC(kPutRpc, kv, KV, Put, PutRequest, PutResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kDeleteRangeRpc, kv, KV, DeleteRange, DeleteRangeRequest, DeleteRangeResponse,
                   Retry::kWrite);
// Read-only transactions are called with Retry::kSafe (CallOptions::retry).
ETCDGRPC_UNARY_RPC(kTxnRpc, kv, KV, Txn, TxnRequest, TxnResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kCompactRpc, kv, KV, Compact, CompactionRequest, CompactionResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kLeaseGrantRpc, lease, Lease, LeaseGrant, LeaseGrantRequest, LeaseGrantResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kLeaseRevokeRpc, lease, Lease, LeaseRevoke, LeaseRevokeRequest,
                   LeaseRevokeResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kLeaseTimeToLiveRpc, lease, Lease, LeaseTimeToLive, LeaseTimeToLiveRequest,
                   LeaseTimeToLiveResponse, Retry::kSafe);
ETCDGRPC_UNARY_RPC(kLeaseLeasesRpc, lease, Lease, LeaseLeases, LeaseLeasesRequest,
                   LeaseLeasesResponse, Retry::kSafe);
ETCDGRPC_UNARY_RPC(kMemberListRpc, cluster, Cluster, MemberList, MemberListRequest,
                   MemberListResponse, Retry::kSafe);
ETCDGRPC_UNARY_RPC(kStatusRpc, maintenance, Maintenance, Status, StatusRequest, StatusResponse,
                   Retry::kSafe);

// --- Cluster and Maintenance facades (lib/cluster.cc, lib/maintenance.cc) ---
ETCDGRPC_UNARY_RPC(kMemberAddRpc, cluster, Cluster, MemberAdd, MemberAddRequest, MemberAddResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kMemberRemoveRpc, cluster, Cluster, MemberRemove, MemberRemoveRequest,
                   MemberRemoveResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kMemberUpdateRpc, cluster, Cluster, MemberUpdate, MemberUpdateRequest,
                   MemberUpdateResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kMemberPromoteRpc, cluster, Cluster, MemberPromote, MemberPromoteRequest,
                   MemberPromoteResponse, Retry::kWrite);
// Alarm GET is a read; a DEACTIVATE is called with Retry::kWrite (CallOptions::retry).
ETCDGRPC_UNARY_RPC(kAlarmRpc, maintenance, Maintenance, Alarm, AlarmRequest, AlarmResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kDefragmentRpc, maintenance, Maintenance, Defragment, DefragmentRequest,
                   DefragmentResponse, Retry::kSafe);
ETCDGRPC_UNARY_RPC(kHashRpc, maintenance, Maintenance, Hash, HashRequest, HashResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kHashKVRpc, maintenance, Maintenance, HashKV, HashKVRequest, HashKVResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kMoveLeaderRpc, maintenance, Maintenance, MoveLeader, MoveLeaderRequest,
                   MoveLeaderResponse, Retry::kWrite);
// The server-streaming Snapshot is not a unary RPC: lib/maintenance_snapshot.cc runs its one
// call through UnaryCallPlan under this name.
inline constexpr absl::string_view kSnapshotMethod = "/etcdserverpb.Maintenance/Snapshot";
// --- Auth (lib/auth.cc, lib/auth_roles.cc) -----------------------------------
ETCDGRPC_UNARY_RPC(kAuthEnableRpc, auth, Auth, AuthEnable, AuthEnableRequest, AuthEnableResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kAuthDisableRpc, auth, Auth, AuthDisable, AuthDisableRequest,
                   AuthDisableResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kAuthStatusRpc, auth, Auth, AuthStatus, AuthStatusRequest, AuthStatusResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kUserAddRpc, auth, Auth, UserAdd, AuthUserAddRequest, AuthUserAddResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kUserGetRpc, auth, Auth, UserGet, AuthUserGetRequest, AuthUserGetResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kUserListRpc, auth, Auth, UserList, AuthUserListRequest, AuthUserListResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kUserDeleteRpc, auth, Auth, UserDelete, AuthUserDeleteRequest,
                   AuthUserDeleteResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kUserChangePasswordRpc, auth, Auth, UserChangePassword,
                   AuthUserChangePasswordRequest, AuthUserChangePasswordResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kUserGrantRoleRpc, auth, Auth, UserGrantRole, AuthUserGrantRoleRequest,
                   AuthUserGrantRoleResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kUserRevokeRoleRpc, auth, Auth, UserRevokeRole, AuthUserRevokeRoleRequest,
                   AuthUserRevokeRoleResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kRoleAddRpc, auth, Auth, RoleAdd, AuthRoleAddRequest, AuthRoleAddResponse,
                   Retry::kWrite);
ETCDGRPC_UNARY_RPC(kRoleGetRpc, auth, Auth, RoleGet, AuthRoleGetRequest, AuthRoleGetResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kRoleListRpc, auth, Auth, RoleList, AuthRoleListRequest, AuthRoleListResponse,
                   Retry::kSafe);
ETCDGRPC_UNARY_RPC(kRoleDeleteRpc, auth, Auth, RoleDelete, AuthRoleDeleteRequest,
                   AuthRoleDeleteResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kRoleGrantPermissionRpc, auth, Auth, RoleGrantPermission,
                   AuthRoleGrantPermissionRequest, AuthRoleGrantPermissionResponse, Retry::kWrite);
ETCDGRPC_UNARY_RPC(kRoleRevokePermissionRpc, auth, Auth, RoleRevokePermission,
                   AuthRoleRevokePermissionRequest, AuthRoleRevokePermissionResponse,
                   Retry::kWrite);

#undef ETCDGRPC_UNARY_RPC

}  // namespace etcdgrpc::internal
