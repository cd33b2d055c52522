// The key range of `role grant-permission` and `role revoke-permission`, from
// <key> [endkey] and --prefix / --from-key, exactly as etcdctl's permRange
// builds it (an empty key is "\0"; with a flag, every key).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

struct PermKeys {
  std::string key;
  // "" for one key, "\0" for open-ended.
  std::string range_end;
};

// `args` are <key> [endkey] (more are ignored, as etcdctl does). Errors carry
// etcdctl's words and exit code 128.
[[nodiscard]] absl::StatusOr<PermKeys> PermRange(const std::vector<std::string>& args, bool prefix,
                                                 bool from_key);

}  // namespace etcdgrpc::cli
