// The Cluster facade (etcd's Cluster service) and Client::MemberList, which
// shares its implementation.
#include "etcdgrpc/cluster.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/client_core.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {
namespace {

Member ParseMember(etcdserverpb::Member& member) {
  return Member{.id = member.id(),
                .name = std::move(*member.mutable_name()),
                .peer_urls = {member.peerurls().begin(), member.peerurls().end()},
                .client_urls = {member.clienturls().begin(), member.clienturls().end()},
                .is_learner = member.islearner()};
}

template <class Response>
MemberListResult ParseMembers(Response& response) {
  MemberListResult result;
  result.header = internal::ParseHeader(response.header());
  for (etcdserverpb::Member& member : *response.mutable_members()) {
    result.members.push_back(ParseMember(member));
  }
  return result;
}

MemberAddResult ParseMemberAdd(etcdserverpb::MemberAddResponse& response) {
  MemberListResult members = ParseMembers(response);
  return MemberAddResult{.header = members.header,
                         .member = ParseMember(*response.mutable_member()),
                         .members = std::move(members.members)};
}

// What etcd's types.NewURLs accepts (scheme http, https, unix or unixs; a
// "host:port" address; no path), checked here, as clientv3 does, so that a
// typo is refused before it reaches the cluster configuration. The message is
// etcd's own (rpctypes.ErrGRPCMemberBadURLs) followed by NewURLs' text.
absl::Status CheckPeerUrls(const std::vector<std::string>& urls) {
  constexpr absl::string_view kBadUrls = "etcdserver: given member URLs are invalid";
  if (urls.empty())
    return absl::InvalidArgumentError(absl::StrCat(kBadUrls, ": no valid URLs given"));
  for (const std::string& given : urls) {
    const absl::string_view url = absl::StripAsciiWhitespace(given);
    const size_t scheme_end = url.find("://");
    const absl::string_view scheme = url.substr(0, scheme_end);
    if (scheme_end == absl::string_view::npos ||
        (scheme != "http" && scheme != "https" && scheme != "unix" && scheme != "unixs")) {
      return absl::InvalidArgumentError(
          absl::StrCat(kBadUrls, ": URL scheme must be http, https, unix, or unixs: ", url));
    }
    absl::string_view rest = url.substr(scheme_end + 3);
    const size_t host_end = rest.find_first_of("/?#");
    const absl::string_view host = rest.substr(0, host_end);
    const absl::string_view after =
        host_end == absl::string_view::npos ? "" : rest.substr(host_end);
    // net.SplitHostPort: "[v6]:port" or "host:port" with exactly one colon.
    const bool bracketed = absl::StartsWith(host, "[");
    const size_t colon = host.rfind(':');
    const bool host_port =
        colon != absl::string_view::npos && colon > 0 &&
        (bracketed ? host.substr(0, colon).back() == ']' : host.find(':') == colon);
    if (!host_port) {
      return absl::InvalidArgumentError(
          absl::StrCat(kBadUrls, ": URL address does not have the form \"host:port\": ", url));
    }
    if (absl::StartsWith(after, "/")) {
      return absl::InvalidArgumentError(
          absl::StrCat(kBadUrls, ": URL must not contain a path: ", url));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMemberId(uint64_t id) {
  if (id == 0) return absl::InvalidArgumentError("member id 0 is not a member's id");
  return absl::OkStatus();
}

template <class Result>
void FailAsync(Callback<Result>& done, absl::Status status) {
  std::move(done)(std::move(status));
}

}  // namespace

Cluster::Cluster(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}

Cluster Client::cluster() { return Cluster(core_); }

absl::StatusOr<MemberListResult> Client::MemberList() { return cluster().MemberList(); }

absl::StatusOr<MemberListResult> Cluster::MemberList() {
  auto response = internal::CallUnary(*core_->connection, internal::kMemberListRpc,
                                      etcdserverpb::MemberListRequest());
  if (!response.ok()) return response.status();
  return ParseMembers(*response);
}

void Cluster::MemberListAsync(Callback<MemberListResult> done) {
  internal::CallUnaryAsync(
      *core_->connection, *core_->async_calls, internal::kMemberListRpc,
      etcdserverpb::MemberListRequest(),
      [](etcdserverpb::MemberListResponse& response) { return ParseMembers(response); },
      std::move(done));
}

namespace {

absl::StatusOr<etcdserverpb::MemberAddRequest> AddRequest(const std::vector<std::string>& urls,
                                                          const MemberAddOptions& options) {
  if (absl::Status s = CheckPeerUrls(urls); !s.ok()) return s;
  etcdserverpb::MemberAddRequest request;
  for (const std::string& url : urls) request.add_peerurls(url);
  request.set_islearner(options.learner);
  return request;
}

absl::StatusOr<etcdserverpb::MemberUpdateRequest> UpdateRequest(
    uint64_t id, const std::vector<std::string>& urls) {
  // The URLs first, as clientv3 checks them before etcd sees the id.
  if (absl::Status s = CheckPeerUrls(urls); !s.ok()) return s;
  if (absl::Status s = CheckMemberId(id); !s.ok()) return s;
  etcdserverpb::MemberUpdateRequest request;
  request.set_id(id);
  for (const std::string& url : urls) request.add_peerurls(url);
  return request;
}

}  // namespace

absl::StatusOr<MemberAddResult> Cluster::MemberAdd(const std::vector<std::string>& peer_urls,
                                                   const MemberAddOptions& options) {
  absl::StatusOr<etcdserverpb::MemberAddRequest> request = AddRequest(peer_urls, options);
  if (!request.ok()) return request.status();
  auto response = internal::CallUnary(*core_->connection, internal::kMemberAddRpc, *request);
  if (!response.ok()) return response.status();
  return ParseMemberAdd(*response);
}

void Cluster::MemberAddAsync(const std::vector<std::string>& peer_urls,
                             const MemberAddOptions& options, Callback<MemberAddResult> done) {
  absl::StatusOr<etcdserverpb::MemberAddRequest> request = AddRequest(peer_urls, options);
  if (!request.ok()) return FailAsync(done, request.status());
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kMemberAddRpc,
                           *std::move(request), ParseMemberAdd, std::move(done));
}

absl::StatusOr<MemberRemoveResult> Cluster::MemberRemove(uint64_t id) {
  if (absl::Status s = CheckMemberId(id); !s.ok()) return s;
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  auto response = internal::CallUnary(*core_->connection, internal::kMemberRemoveRpc, request);
  if (!response.ok()) return response.status();
  return ParseMembers(*response);
}

void Cluster::MemberRemoveAsync(uint64_t id, Callback<MemberRemoveResult> done) {
  if (absl::Status s = CheckMemberId(id); !s.ok()) return FailAsync(done, std::move(s));
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  internal::CallUnaryAsync(
      *core_->connection, *core_->async_calls, internal::kMemberRemoveRpc, std::move(request),
      [](etcdserverpb::MemberRemoveResponse& response) { return ParseMembers(response); },
      std::move(done));
}

absl::StatusOr<MemberUpdateResult> Cluster::MemberUpdate(
    uint64_t id, const std::vector<std::string>& peer_urls) {
  absl::StatusOr<etcdserverpb::MemberUpdateRequest> request = UpdateRequest(id, peer_urls);
  if (!request.ok()) return request.status();
  auto response = internal::CallUnary(*core_->connection, internal::kMemberUpdateRpc, *request);
  if (!response.ok()) return response.status();
  return ParseMembers(*response);
}

void Cluster::MemberUpdateAsync(uint64_t id, const std::vector<std::string>& peer_urls,
                                Callback<MemberUpdateResult> done) {
  absl::StatusOr<etcdserverpb::MemberUpdateRequest> request = UpdateRequest(id, peer_urls);
  if (!request.ok()) return FailAsync(done, request.status());
  internal::CallUnaryAsync(
      *core_->connection, *core_->async_calls, internal::kMemberUpdateRpc, *std::move(request),
      [](etcdserverpb::MemberUpdateResponse& response) { return ParseMembers(response); },
      std::move(done));
}

absl::StatusOr<MemberPromoteResult> Cluster::MemberPromote(uint64_t id) {
  if (absl::Status s = CheckMemberId(id); !s.ok()) return s;
  etcdserverpb::MemberPromoteRequest request;
  request.set_id(id);
  auto response = internal::CallUnary(*core_->connection, internal::kMemberPromoteRpc, request);
  if (!response.ok()) return response.status();
  return ParseMembers(*response);
}

void Cluster::MemberPromoteAsync(uint64_t id, Callback<MemberPromoteResult> done) {
  if (absl::Status s = CheckMemberId(id); !s.ok()) return FailAsync(done, std::move(s));
  etcdserverpb::MemberPromoteRequest request;
  request.set_id(id);
  internal::CallUnaryAsync(
      *core_->connection, *core_->async_calls, internal::kMemberPromoteRpc, std::move(request),
      [](etcdserverpb::MemberPromoteResponse& response) { return ParseMembers(response); },
      std::move(done));
}

}  // namespace etcdgrpc
