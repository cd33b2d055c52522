// The arguments etcdctl's member and move-leader commands parse: member ids in
// hex (strconv.ParseUint(s, 16, 64), with Go's error text) and the
// comma-separated --peer-urls list.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

// strconv.ParseUint(text, 16, 64); errors read
// `strconv.ParseUint: parsing "<text>": invalid syntax` (or value out of range).
[[nodiscard]] absl::StatusOr<uint64_t> GoParseHexUint(std::string_view text);

// etcdctl's member commands' id argument: exactly one, in hex; failures carry
// etcdctl's messages and exit code 128.
[[nodiscard]] absl::StatusOr<uint64_t> MemberIdArg(const std::vector<std::string>& args);

// strings.Split(urls, ","), as etcdctl sends them (it checks only that the
// flag is not empty).
[[nodiscard]] std::vector<std::string> SplitPeerUrls(const std::string& urls);

// What etcd answers for an unknown member id.
inline constexpr char kMemberNotFound[] = "etcdserver: member not found";

// The client refuses a member id of 0 and malformed peer URLs before sending
// (INVALID_ARGUMENT). etcdctl sends an id of 0 and prints etcd's answer
// ("etcdserver: member not found"), and refuses URLs with clientv3's own text
// ("URL scheme must be http, https, unix, or unixs: foo"); this turns the
// refusal into those texts. Errors from etcd pass as they are.
[[nodiscard]] absl::Status RefusedBeforeSending(const absl::Status& status);

}  // namespace etcdgrpc::cli
