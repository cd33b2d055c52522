#include "registry/internal/text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcdgrpc::registry::internal {

std::string Printable(std::string_view text) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  if (text.size() > kMax) absl::StrAppend(&out, "…");
  return out;
}

}  // namespace etcdgrpc::registry::internal
