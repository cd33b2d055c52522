// Endpoint set -> ipv4:/ipv6: target, and channel options -> gRPC service
// config JSON.
#include "resolver/internal/channel_target.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "resolver/internal/serving_mark.h"

namespace etcdgrpc::resolver::internal {
namespace {

enum class Family { kNone, kV4, kV6 };

struct Parsed {
  Family family = Family::kNone;
  std::string host;  // without brackets
  std::string port;
};

// "a.b.c.d:p" or "[v6]:p" (a zone "%eth0" allowed, as gRPC's ipv6: parser
// takes it); anything else (a host name) is kNone. Addresses come validated
// as host:port from the view.
Parsed Parse(std::string_view address) {
  Parsed parsed;
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return parsed;
  std::string_view host = address.substr(0, colon);
  parsed.port = std::string(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    const std::string bare(host.substr(0, host.find('%')));
    in6_addr v6{};
    if (inet_pton(AF_INET6, bare.c_str(), &v6) == 1) parsed.family = Family::kV6;
  } else {
    in_addr v4{};
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) parsed.family = Family::kV4;
  }
  parsed.host = std::string(host);
  return parsed;
}

// gRPC's JSON form of a duration: seconds with up to 9 decimals, "0.1s".
std::string JsonDuration(absl::Duration d) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  std::string text = absl::StrFormat("%d.%09d", nanos / 1000000000, nanos % 1000000000);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text + "s";
}

constexpr std::array<const char*, 17> kCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

absl::Status ValidateRetry(const ChannelRetryPolicy& retry) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("channel retry policy: ", std::string(why)));
  };
  if (retry.max_attempts < 2 || retry.max_attempts > 5) {
    return bad(absl::StrCat("max_attempts is ", retry.max_attempts,
                            "; gRPC takes 2 to 5 (leave the policy unset for no retries)"));
  }
  if (retry.initial_backoff <= absl::ZeroDuration() || retry.max_backoff <= absl::ZeroDuration()) {
    return bad(absl::StrCat("backoffs must be positive (initial ",
                            absl::FormatDuration(retry.initial_backoff), ", max ",
                            absl::FormatDuration(retry.max_backoff), ")"));
  }
  if (!(retry.backoff_multiplier > 0)) {
    return bad(absl::StrCat("backoff_multiplier must be positive, not ", retry.backoff_multiplier));
  }
  if (retry.retryable_codes.empty()) return bad("no retryable status code");
  for (grpc::StatusCode code : retry.retryable_codes) {
    const auto index = static_cast<size_t>(code);
    if (code == grpc::StatusCode::OK || index >= kCodeNames.size()) {
      return bad(absl::StrCat("status code ", static_cast<int>(code), " cannot be retried"));
    }
  }
  for (const std::string& method : retry.methods) {
    const size_t slash = method.find('/');
    if (method.empty() || slash == 0 || slash + 1 == method.size() ||
        (slash != std::string::npos && method.find('/', slash + 1) != std::string::npos)) {
      return bad(absl::StrCat("method \"", method,
                              "\" is not \"package.Service\" or \"package.Service/Method\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ChannelTarget BuildChannelTarget(const EndpointSet& set) {
  ChannelTarget result;
  std::vector<Parsed> usable;
  bool any_v6 = false;
  size_t marked = 0;
  for (const auto& endpoint : set.endpoints) {
    // The picker's rule: a server marked NOT_SERVING gets no calls.
    if (MarkedNotServing(*endpoint)) {
      ++marked;
      continue;
    }
    Parsed parsed = Parse(endpoint->address());
    if (parsed.family == Family::kNone) {
      result.left_out.push_back(absl::StrCat(endpoint->key, " (", endpoint->address(), ")"));
      continue;
    }
    any_v6 = any_v6 || parsed.family == Family::kV6;
    usable.push_back(std::move(parsed));
  }
  std::vector<std::string> addresses;
  for (const Parsed& parsed : usable) {
    if (!any_v6) {
      addresses.push_back(absl::StrCat(parsed.host, ":", parsed.port));
    } else if (parsed.family == Family::kV4) {
      addresses.push_back(absl::StrCat("[::ffff:", parsed.host, "]:", parsed.port));
    } else {
      addresses.push_back(absl::StrCat("[", parsed.host, "]:", parsed.port));
    }
  }
  // A stable target: the same addresses make the same string whatever
  // their keys, so only a change of addresses makes a new channel.
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  if (!addresses.empty()) {
    result.target = absl::StrCat(any_v6 ? "ipv6:" : "ipv4:", absl::StrJoin(addresses, ","));
  } else if (!result.left_out.empty()) {
    result.status = HostNamesError(set.service, result.left_out);
  } else {
    result.status = absl::UnavailableError(
        absl::StrCat("service \"", set.service, "\" has no endpoint",
                     marked == 0 ? "" : absl::StrCat(" but ", marked, " marked NOT_SERVING"),
                     " (balancing channel)"));
  }
  return result;
}

absl::Status HostNamesError(const std::string& service, const std::vector<std::string>& left_out) {
  return absl::FailedPreconditionError(absl::StrCat(
      "service \"", service, "\": a balancing channel dials IP addresses only (an ipv4:/ipv6: ",
      "target), and these endpoints have host names: ", absl::StrJoin(left_out, ", "),
      "; use Resolver::Balance() for them"));
}

absl::StatusOr<std::string> ServiceConfigJson(const ChannelOptions& options) {
  if (options.retire_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("channel options: retire_delay is negative (",
                                                   absl::FormatDuration(options.retire_delay),
                                                   ")"));
  }
  nlohmann::ordered_json config;
  config["loadBalancingConfig"] =
      nlohmann::ordered_json::array({{{"round_robin", nlohmann::ordered_json::object()}}});
  if (options.health_check_service.has_value()) {
    config["healthCheckConfig"] = {{"serviceName", *options.health_check_service}};
  }
  if (options.retry.has_value()) {
    const ChannelRetryPolicy& retry = *options.retry;
    if (absl::Status valid = ValidateRetry(retry); !valid.ok()) return valid;
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (const std::string& method : retry.methods) {
      const size_t slash = method.find('/');
      if (slash == std::string::npos) {
        names.push_back({{"service", method}});
      } else {
        names.push_back(
            {{"service", method.substr(0, slash)}, {"method", method.substr(slash + 1)}});
      }
    }
    // An empty name: the default for every method.
    if (names.empty()) names.push_back(nlohmann::ordered_json::object());
    nlohmann::ordered_json codes = nlohmann::ordered_json::array();
    for (grpc::StatusCode code : retry.retryable_codes) {
      codes.push_back(kCodeNames[static_cast<size_t>(code)]);
    }
    config["methodConfig"] =
        nlohmann::ordered_json::array({{{"name", names},
                                        {"retryPolicy",
                                         {{"maxAttempts", retry.max_attempts},
                                          {"initialBackoff", JsonDuration(retry.initial_backoff)},
                                          {"maxBackoff", JsonDuration(retry.max_backoff)},
                                          {"backoffMultiplier", retry.backoff_multiplier},
                                          {"retryableStatusCodes", codes}}}}});
  }
  try {
    return config.dump();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        "channel options: the health check service name is not UTF-8");
  }
}

}  // namespace etcdgrpc::resolver::internal
