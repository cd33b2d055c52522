// Client: the Cluster service (members).
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/connection.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {

absl::StatusOr<MemberListResult> Client::MemberList() {
  auto response = internal::CallUnary(*connection_, internal::kMemberListRpc,
                                      etcdserverpb::MemberListRequest());
  if (!response.ok()) return response.status();
  MemberListResult result;
  result.header = internal::ParseHeader(response->header());
  for (const etcdserverpb::Member& member : response->members()) {
    result.members.push_back(
        Member{.id = member.id(),
               .name = member.name(),
               .peer_urls = {member.peerurls().begin(), member.peerurls().end()},
               .client_urls = {member.clienturls().begin(), member.clienturls().end()},
               .is_learner = member.islearner()});
  }
  return result;
}

}  // namespace etcdgrpc
