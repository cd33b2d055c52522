// The cluster's members (Member, MemberListResult) and the Cluster facade:
// etcd's Cluster service (member list, add, remove, update, promote).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/callback.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

namespace internal {
class ClientCore;
}  // namespace internal

struct ETCDGRPC_EXPORT Member {
  uint64_t id = 0;
  // Empty for a member that was added but has not started yet.
  std::string name = {};
  std::vector<std::string> peer_urls = {};
  std::vector<std::string> client_urls = {};
  bool is_learner = false;
};

struct ETCDGRPC_EXPORT MemberListResult {
  ResponseHeader header;
  std::vector<Member> members;
};

// Member remove, update and promote answer with the members after the change.
using MemberRemoveResult = MemberListResult;
using MemberUpdateResult = MemberListResult;
using MemberPromoteResult = MemberListResult;

struct ETCDGRPC_EXPORT MemberAddResult {
  ResponseHeader header;
  // The new member (no name and no client URLs until it starts).
  Member member;
  // Every member, the new one included.
  std::vector<Member> members;
};

struct ETCDGRPC_EXPORT MemberAddOptions {
  // Add the member as a raft learner (non-voting) that MemberPromote makes a
  // voting member once it has caught up with the leader.
  bool learner = false;
};

// etcd's Cluster service. Obtained from Client::cluster(); copyable; stays
// safe after the Client is destroyed (every call then fails with CANCELLED
// "the client was closed"). Member ids of 0 and empty or malformed peer URLs
// ("http://host:port" or "https://host:port", nothing after the port) are
// refused with INVALID_ARGUMENT before anything is sent; the URL error starts
// with etcd's own text ("etcdserver: given member URLs are invalid").
class ETCDGRPC_EXPORT Cluster {
 public:
  // The members, from whichever endpoint answers.
  [[nodiscard]] absl::StatusOr<MemberListResult> MemberList();
  [[nodiscard]] absl::StatusOr<MemberAddResult> MemberAdd(const std::vector<std::string>& peer_urls,
                                                          const MemberAddOptions& options = {});
  [[nodiscard]] absl::StatusOr<MemberRemoveResult> MemberRemove(uint64_t id);
  [[nodiscard]] absl::StatusOr<MemberUpdateResult> MemberUpdate(
      uint64_t id, const std::vector<std::string>& peer_urls);
  // Makes a learner a voting member; etcd refuses it ("can only promote a
  // learner member which is in sync with leader") until it has caught up.
  [[nodiscard]] absl::StatusOr<MemberPromoteResult> MemberPromote(uint64_t id);

  void MemberListAsync(Callback<MemberListResult> done);
  void MemberAddAsync(const std::vector<std::string>& peer_urls, const MemberAddOptions& options,
                      Callback<MemberAddResult> done);
  void MemberRemoveAsync(uint64_t id, Callback<MemberRemoveResult> done);
  void MemberUpdateAsync(uint64_t id, const std::vector<std::string>& peer_urls,
                         Callback<MemberUpdateResult> done);
  void MemberPromoteAsync(uint64_t id, Callback<MemberPromoteResult> done);

 private:
  friend class Client;
  explicit Cluster(std::shared_ptr<internal::ClientCore> core);

  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace etcdgrpc
