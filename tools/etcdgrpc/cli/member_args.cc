#include "cli/member_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {

absl::StatusOr<uint64_t> GoParseHexUint(std::string_view text) {
  const auto fail = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseUint: parsing ", GoQuote(text), ": ", why));
  };
  if (text.empty()) return fail("invalid syntax");
  uint64_t value = 0;
  bool overflow = false;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return fail("invalid syntax");
    }
    if (value >> 60 != 0) overflow = true;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  if (overflow) return fail("value out of range");
  return value;
}

absl::StatusOr<uint64_t> MemberIdArg(const std::vector<std::string>& args) {
  if (args.size() != 1) return CliError(kExitBadArgs, "member ID is not provided");
  absl::StatusOr<uint64_t> id = GoParseHexUint(args[0]);
  if (!id.ok()) {
    return CliError(kExitBadArgs, absl::StrCat("bad member ID arg (", id.status().message(),
                                               "), expecting ID in Hex"));
  }
  return id;
}

std::vector<std::string> SplitPeerUrls(const std::string& urls) {
  return absl::StrSplit(urls, ',');
}

absl::Status RefusedBeforeSending(const absl::Status& status) {
  if (status.ok() || ErrorEndpoint(status).has_value()) return status;
  // clientv3 checks the URLs itself and returns types.NewURLs' text.
  constexpr absl::string_view kBadUrls = "etcdserver: given member URLs are invalid: ";
  if (absl::StartsWith(status.message(), kBadUrls)) {
    return CliError(kExitError, std::string(status.message().substr(kBadUrls.size())));
  }
  return CliError(kExitError, kMemberNotFound);
}

}  // namespace etcdgrpc::cli
