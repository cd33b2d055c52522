// etcd's Maintenance service: typed results (EndpointStatus, alarms, hashes,
// snapshots) and the Maintenance facade.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcdgrpc/callback.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

namespace internal {
class ClientCore;
}  // namespace internal

// Maintenance.Status of one member.
struct ETCDGRPC_EXPORT EndpointStatus {
  std::string endpoint;
  ResponseHeader header;
  std::string version;
  int64_t db_size = 0;
  int64_t db_size_in_use = 0;
  // Member id of the current leader; the member is leader when this equals
  // header.member_id.
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;

  bool is_leader() const { return leader != 0 && leader == header.member_id; }
};

// etcd's AlarmType values.
enum class AlarmType : int {
  kNone = 0,
  // The backend exceeded its quota (--quota-backend-bytes): writes are refused
  // ("etcdserver: mvcc: database space exceeded") until it is disarmed.
  kNoSpace = 1,
  // A corruption check found the member's data differs from the others'.
  kCorrupt = 2,
};

// "NONE", "NOSPACE", "CORRUPT" (etcd's names).
[[nodiscard]] ETCDGRPC_EXPORT std::string_view AlarmTypeName(AlarmType type);

struct ETCDGRPC_EXPORT AlarmMember {
  uint64_t member_id = 0;
  AlarmType alarm = AlarmType::kNone;

  friend bool operator==(const AlarmMember&, const AlarmMember&) = default;
};

struct ETCDGRPC_EXPORT AlarmResult {
  // Zero for AlarmDisarmAll, which is made of several calls (as in clientv3).
  ResponseHeader header;
  std::vector<AlarmMember> alarms;
};

struct ETCDGRPC_EXPORT HashResult {
  ResponseHeader header;
  // Hash of the member's whole backend (every bucket).
  uint32_t hash = 0;
};

struct ETCDGRPC_EXPORT HashKVResult {
  ResponseHeader header;
  // Hash of the key-value history up to the revision asked for.
  uint32_t hash = 0;
  int64_t compact_revision = 0;
};

struct ETCDGRPC_EXPORT MoveLeaderResult {
  ResponseHeader header;
  // The leader that handed over, and the member that leads now.
  uint64_t from = 0;
  uint64_t to = 0;
};

struct ETCDGRPC_EXPORT SnapshotOptions {
  // The member to take the snapshot from (one of the client's endpoints);
  // empty: whichever the client picks.
  std::string endpoint = {};
  // Bounds the whole transfer. None by default, like etcdctl's snapshot save:
  // a large backend takes longer than any request time-out.
  std::optional<absl::Duration> timeout = std::nullopt;
};

struct ETCDGRPC_EXPORT SnapshotResult {
  // The file written: the backend followed by its 32-byte sha256, as etcd
  // sent it (what etcdctl snapshot save writes and restore checks).
  std::string path;
  // Bytes of the backend, without the checksum.
  int64_t size = 0;
  // The verified sha256 of the backend, in lower-case hex.
  std::string sha256;
  // "host:port" of the member that sent it.
  std::string endpoint;
};

// etcd's Maintenance service. Obtained from Client::maintenance(); copyable;
// stays safe after the Client is destroyed (every call then fails with
// CANCELLED "the client was closed"). Calls that take an endpoint ask that one
// member (one of the client's endpoints, "host:port" or a URL), with no retry
// elsewhere, as Client::Status does.
class ETCDGRPC_EXPORT Maintenance {
 public:
  [[nodiscard]] absl::StatusOr<EndpointStatus> Status(std::string_view endpoint);
  // Every alarm raised in the cluster.
  [[nodiscard]] absl::StatusOr<AlarmResult> AlarmList();
  // Disarms one alarm (member id and type both set; INVALID_ARGUMENT otherwise).
  [[nodiscard]] absl::StatusOr<AlarmResult> AlarmDisarm(const AlarmMember& alarm);
  // Disarms every alarm: lists them, then disarms each (clientv3's AlarmDisarm
  // of an empty AlarmMember); the result lists those disarmed.
  [[nodiscard]] absl::StatusOr<AlarmResult> AlarmDisarmAll();
  // Defragments one member's backend (it answers nothing else meanwhile).
  [[nodiscard]] absl::StatusOr<ResponseHeader> Defragment(std::string_view endpoint);
  [[nodiscard]] absl::StatusOr<HashResult> Hash(std::string_view endpoint);
  // `revision` 0: the latest; negative: INVALID_ARGUMENT.
  [[nodiscard]] absl::StatusOr<HashKVResult> HashKV(std::string_view endpoint,
                                                    int64_t revision = 0);
  // Hands the leadership to `transferee` (a member id, not 0). etcd accepts it
  // only from the leader: the leader is found among the client's endpoints
  // with Status, as etcdctl does, and the request sent there;
  // FAILED_PRECONDITION "no leader endpoint given at [...]" when none of them
  // is the leader.
  [[nodiscard]] absl::StatusOr<MoveLeaderResult> MoveLeader(uint64_t transferee);
  // Streams a snapshot of one member's backend into `path`: written to
  // "<path>.part", fsynced, its sha256 checked, then renamed to `path`. A
  // "<path>.part" that cannot be created fails before anything is asked of
  // etcd; a broken stream, a bad checksum or a failed write leaves neither
  // file. An empty path is INVALID_ARGUMENT.
  [[nodiscard]] absl::StatusOr<SnapshotResult> Snapshot(const std::string& path,
                                                        const SnapshotOptions& options = {});

  void StatusAsync(std::string_view endpoint, Callback<EndpointStatus> done);
  void AlarmListAsync(Callback<AlarmResult> done);
  void AlarmDisarmAsync(const AlarmMember& alarm, Callback<AlarmResult> done);
  void DefragmentAsync(std::string_view endpoint, Callback<ResponseHeader> done);
  void HashAsync(std::string_view endpoint, Callback<HashResult> done);
  void HashKVAsync(std::string_view endpoint, int64_t revision, Callback<HashKVResult> done);

 private:
  friend class Client;
  explicit Maintenance(std::shared_ptr<internal::ClientCore> core);

  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace etcdgrpc
