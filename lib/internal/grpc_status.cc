#include "lib/internal/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "etcdgrpc/errors.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {
namespace {
constexpr char kMessagePayload[] = "etcdgrpc/server-message";
constexpr char kEndpointPayload[] = "etcdgrpc/endpoint";

// gRPC's own wording for some failures does not say what to do about them.
std::string Hint(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      absl::StrContains(status.error_message(), "larger than max")) {
    return " (the message exceeds a gRPC size limit: etcd's --max-request-bytes plus 512 KiB "
           "for requests, ClientOptions::max_receive_bytes for responses)";
  }
  return "";
}
}  // namespace

namespace internal {

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view endpoint,
                            absl::string_view method) {
  if (status.ok()) return absl::OkStatus();
  std::string message = status.error_message();
  if (message.empty())
    message = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(message, Hint(status), " [", endpoint, " ", method, "]"));
  result.SetPayload(kMessagePayload, absl::Cord(message));
  result.SetPayload(kEndpointPayload, absl::Cord(endpoint));
  return result;
}

std::string DescribeKeyRange(absl::string_view key, absl::string_view range_end) {
  auto quoted = [](absl::string_view text) {
    return absl::StrCat("\"", absl::CHexEscape(text), "\"");
  };
  if (range_end.empty()) return absl::StrCat("key ", quoted(key));
  if (range_end == absl::string_view("\0", 1)) {
    if (key.empty() || key == absl::string_view("\0", 1)) return "all keys";
    return absl::StrCat("keys >= ", quoted(key));
  }
  if (!key.empty() && range_end == PrefixRangeEnd(std::string_view(key.data(), key.size()))) {
    return absl::StrCat("prefix ", quoted(key));
  }
  return absl::StrCat("range [", quoted(key), ", ", quoted(range_end), ")");
}

absl::Status WithKeyRange(absl::Status status, absl::string_view key, absl::string_view range_end) {
  if (!absl::IsPermissionDenied(status)) return status;
  absl::Status result(status.code(),
                      absl::StrCat(status.message(), " (", DescribeKeyRange(key, range_end), ")"));
  status.ForEachPayload(
      [&](absl::string_view type, const absl::Cord& payload) { result.SetPayload(type, payload); });
  return result;
}

}  // namespace internal

std::string ServerMessage(const absl::Status& status) {
  if (absl::optional<absl::Cord> message = status.GetPayload(kMessagePayload)) {
    return std::string(*message);
  }
  return std::string(status.message());
}

std::optional<std::string> ErrorEndpoint(const absl::Status& status) {
  if (absl::optional<absl::Cord> endpoint = status.GetPayload(kEndpointPayload)) {
    return std::string(*endpoint);
  }
  return std::nullopt;
}

bool IsCompacted(const absl::Status& status) {
  return absl::IsOutOfRange(status) &&
         absl::StrContains(ServerMessage(status), "required revision has been compacted");
}

bool IsFutureRevision(const absl::Status& status) {
  return absl::IsOutOfRange(status) &&
         absl::StrContains(ServerMessage(status), "required revision is a future revision");
}

bool IsClientClosed(const absl::Status& status) {
  return absl::IsCancelled(status) && absl::StartsWith(status.message(), "the client was closed");
}

bool IsLeaseNotFound(const absl::Status& status) {
  return absl::IsNotFound(status) &&
         absl::StrContains(ServerMessage(status), "requested lease not found");
}

}  // namespace etcdgrpc
