// The etcd client: connects to etcd members and offers typed KV and
// Maintenance calls, synchronous and asynchronous.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/callback.h"
#include "etcdgrpc/client_options.h"
#include "etcdgrpc/cluster.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/stats.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/types.h"
#include "etcdgrpc/watch.h"

namespace etcdgrpc {

namespace internal {
class AsyncCalls;
class ClientCore;
class Connection;
class LeaseKeeper;
class WatchStream;
}  // namespace internal

// Thread-safe. Errors are absl::Status with etcd's own message (for example
// "etcdserver: mvcc: required revision has been compacted") followed by the
// endpoint and method that produced it; the code is gRPC's code.
class ETCDGRPC_EXPORT Client {
 public:
  // Validates the options and connects. With a non-zero dial_timeout, fails
  // with UNAVAILABLE naming every endpoint tried when none is reachable in time.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  // Closes the client: cancels its streams and asynchronous calls still in
  // flight (their callbacks run with CANCELLED), tells kept leases and
  // watches (kClientClosed, CANCELLED), and joins its threads. Returns within
  // about a second whatever the members do, unless a listener or callback of
  // this client is still running: that one is waited for. Handles from
  // Share() then fail every call with CANCELLED. Destroying a client from
  // inside one of its own callbacks aborts with a message saying so.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // --- KV -----------------------------------------------------------------
  [[nodiscard]] absl::StatusOr<GetResult> Get(std::string_view key, const GetOptions& options = {});
  [[nodiscard]] absl::StatusOr<GetResult> Range(const KeyRange& range,
                                                const GetOptions& options = {});
  [[nodiscard]] absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value,
                                              const PutOptions& options = {});
  [[nodiscard]] absl::StatusOr<DeleteResult> Delete(std::string_view key,
                                                    const DeleteOptions& options = {});
  [[nodiscard]] absl::StatusOr<DeleteResult> DeleteRange(const KeyRange& range,
                                                         const DeleteOptions& options = {});
  [[nodiscard]] absl::StatusOr<TxnResult> Txn(const TxnRequest& txn);
  // Compacts the history up to `revision`; returns the header of the answer.
  [[nodiscard]] absl::StatusOr<ResponseHeader> Compact(int64_t revision,
                                                       const CompactOptions& options = {});

  void GetAsync(std::string_view key, const GetOptions& options, Callback<GetResult> done);
  void RangeAsync(const KeyRange& range, const GetOptions& options, Callback<GetResult> done);
  void PutAsync(std::string_view key, std::string_view value, const PutOptions& options,
                Callback<PutResult> done);
  void DeleteRangeAsync(const KeyRange& range, const DeleteOptions& options,
                        Callback<DeleteResult> done);
  void TxnAsync(const TxnRequest& txn, Callback<TxnResult> done);
  void CompactAsync(int64_t revision, const CompactOptions& options, Callback<ResponseHeader> done);

  // --- Lease ----------------------------------------------------------------
  // Grants a lease of `ttl_seconds` (> 0); `id` 0 lets etcd choose the id.
  [[nodiscard]] absl::StatusOr<LeaseGrantResult> Grant(int64_t ttl_seconds, int64_t id = 0);
  // Revokes the lease and deletes its keys; handles keeping it hear kRevoked.
  [[nodiscard]] absl::StatusOr<ResponseHeader> Revoke(int64_t id);
  [[nodiscard]] absl::StatusOr<LeaseTimeToLiveResult> TimeToLive(int64_t id,
                                                                 bool with_keys = false);
  [[nodiscard]] absl::StatusOr<LeaseListResult> Leases();
  // Renews the lease once, on the client's shared keep-alive stream. NOT_FOUND
  // ("etcdserver: requested lease not found") when etcd no longer has it.
  [[nodiscard]] absl::StatusOr<LeaseKeepAliveResult> KeepAliveOnce(int64_t id);
  // Keeps the lease alive on the shared keep-alive stream until the handle is
  // dropped or the lease is lost; `listener` (may be null) hears renewals and
  // the loss. Keeping the same lease twice shares its renewals.
  [[nodiscard]] absl::StatusOr<KeptLease> Keep(int64_t id, LeaseListener* listener,
                                               const KeepOptions& options = {});

  void GrantAsync(int64_t ttl_seconds, int64_t id, Callback<LeaseGrantResult> done);
  void RevokeAsync(int64_t id, Callback<ResponseHeader> done);
  void TimeToLiveAsync(int64_t id, bool with_keys, Callback<LeaseTimeToLiveResult> done);
  void LeasesAsync(Callback<LeaseListResult> done);
  // `done` runs on the keep-alive stream's thread; calls made from it are
  // written together with others made while answers are being delivered.
  void KeepAliveOnceAsync(int64_t id, Callback<LeaseKeepAliveResult> done);

  // --- Watch ----------------------------------------------------------------
  // Starts a watch on the client's shared watch stream; `listener` (not null)
  // receives its events until the handle is dropped or the watch ends.
  // InvalidArgument for an empty key, a range end before the key or a
  // negative start revision.
  [[nodiscard]] absl::StatusOr<WatchHandle> Watch(WatchRequest request, WatchListener* listener);
  // Asks etcd for a progress notification on every watch (OnProgress).
  [[nodiscard]] absl::Status RequestProgress();

  // --- Cluster --------------------------------------------------------------
  // The members (Cluster.MemberList), from whichever endpoint answers; the
  // same as cluster().MemberList().
  [[nodiscard]] absl::StatusOr<MemberListResult> MemberList();

  // --- Maintenance ----------------------------------------------------------
  // Status of one member, which must be one of endpoints(); the same as
  // maintenance().Status(endpoint).
  [[nodiscard]] absl::StatusOr<EndpointStatus> Status(std::string_view endpoint);

  // --- Cluster and Maintenance services (etcdgrpc/cluster.h, maintenance.h) --
  [[nodiscard]] Cluster cluster();
  [[nodiscard]] Maintenance maintenance();
  // --- Auth (etcdgrpc/auth.h) ------------------------------------------------
  // Users, roles, permissions, authentication on and off.
  [[nodiscard]] Auth auth();

  // --- Connection -----------------------------------------------------------
  // A handle on this client for components that must not outlive it by
  // accident (a Registrar, a Resolver): it works like this client while this
  // client lives, and afterwards fails every call with CANCELLED ("the client
  // was closed", IsClientClosed()) instead of reaching freed memory. Drop
  // the last handle on a thread of your own rather than inside a callback of
  // this client: the last reference frees the channels, and gRPC 1.51 must
  // not free a channel's completion queue from the thread polling it.
  [[nodiscard]] std::shared_ptr<Client> Share();
  // True once the owning client was destroyed (on a handle from Share()).
  [[nodiscard]] bool closed() const;
  // The streams' counters and every endpoint's health.
  [[nodiscard]] ClientStats stats() const;
  // The endpoints as given, normalized to "host:port".
  [[nodiscard]] const std::vector<std::string>& endpoints() const;
  // The endpoint that calls currently go to.
  [[nodiscard]] std::string current_endpoint() const;
  [[nodiscard]] const ClientOptions& options() const;

  // For tests: a client over the given connection (for example one whose stubs
  // are mocks). Use Connect() otherwise.
  Client(ClientOptions options, std::unique_ptr<internal::Connection> connection);

 private:
  Client(std::shared_ptr<internal::ClientCore> core, bool owner);

  std::shared_ptr<internal::ClientCore> core_;
  // The Client from Connect() owns the core: its destruction closes it.
  const bool owner_;
  internal::Connection* const connection_;
  internal::AsyncCalls* const async_calls_;
  // Aliases of core_: handles (KeptLease, WatchHandle) keep the core alive.
  const std::shared_ptr<internal::LeaseKeeper> lease_keeper_;
  const std::shared_ptr<internal::WatchStream> watch_stream_;
};

}  // namespace etcdgrpc
