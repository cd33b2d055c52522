#include "lib/internal/endpoint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace etcdgrpc::internal {
namespace {

absl::Status Malformed(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed endpoint \"", text, "\": ", why,
                   " (expected host:port, http://host:port or https://host:port)"));
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  Endpoint endpoint;
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (absl::ConsumePrefix(&rest, "https://")) {
    endpoint.https = true;
  } else if (!absl::ConsumePrefix(&rest, "http://") && absl::StrContains(rest, "/")) {
    return Malformed(text, "unknown scheme or a path");
  }
  if (absl::StrContains(rest, "/")) return Malformed(text, "a path is not allowed");
  absl::string_view host;
  absl::string_view port;
  if (absl::ConsumePrefix(&rest, "[")) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) return Malformed(text, "unclosed '['");
    host = rest.substr(0, close);
    rest.remove_prefix(close + 1);
    if (!absl::ConsumePrefix(&rest, ":")) return Malformed(text, "missing port");
    port = rest;
  } else {
    size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return Malformed(text, "missing port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (absl::StrContains(host, ":")) return Malformed(text, "IPv6 hosts need brackets");
  }
  if (host.empty()) return Malformed(text, "missing host");
  if (!absl::SimpleAtoi(port, &endpoint.port) || endpoint.port <= 0 || endpoint.port > 65535) {
    return Malformed(text, "port must be a number from 1 to 65535");
  }
  endpoint.host = std::string(host);
  endpoint.address = absl::StrContains(host, ":") ? absl::StrCat("[", host, "]:", endpoint.port)
                                                  : absl::StrCat(host, ":", endpoint.port);
  return endpoint;
}

}  // namespace etcdgrpc::internal
