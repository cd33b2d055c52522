// Small text helpers shared by the registry's sources: std::string_view to
// Abseil's own string_view (Debian's Abseil does not alias them), printable
// renderings of arbitrary bytes for error messages, lease ids in hex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "common/lease_id.h"

namespace etcdgrpc::registry::internal {

inline absl::string_view ToAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// The text with bytes that are not printable ASCII escaped as \xNN, cut
// after 200 bytes: error messages stay one readable line.
[[nodiscard]] std::string Printable(std::string_view text);

using ::etcdgrpc::internal::FormatLeaseId;

}  // namespace etcdgrpc::registry::internal
