#include "cli/go_duration.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::cli {
namespace {

// `value` with `decimals` fractional digits, trailing zeros (and the point) dropped.
std::string Fraction(uint64_t value, int decimals) {
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string out = absl::StrCat(value / scale);
  uint64_t rest = value % scale;
  if (rest == 0) return out;
  std::string digits = std::to_string(rest);
  digits.insert(0, static_cast<size_t>(decimals) - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return absl::StrCat(out, ".", digits);
}

}  // namespace

std::string GoDurationString(absl::Duration duration) {
  const int64_t ns = absl::ToInt64Nanoseconds(duration);
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  const uint64_t u = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000) {
    out = absl::StrCat(u, "ns");
  } else if (u < 1000000) {
    out = absl::StrCat(Fraction(u, 3), "\xC2\xB5s");
  } else if (u < 1000000000) {
    out = absl::StrCat(Fraction(u, 6), "ms");
  } else {
    const uint64_t seconds = u / 1000000000;
    const std::string secs = absl::StrCat(Fraction(u % 60000000000ULL, 9), "s");
    if (seconds < 60) {
      out = secs;
    } else if (seconds < 3600) {
      out = absl::StrCat(seconds / 60, "m", secs);
    } else {
      out = absl::StrCat(seconds / 3600, "h", (seconds / 60) % 60, "m", secs);
    }
  }
  return negative ? "-" + out : out;
}

}  // namespace etcdgrpc::cli
