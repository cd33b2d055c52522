#include "etcdgrpc/types.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace etcdgrpc {
namespace {
// etcd's sentinel for "no upper bound" (range_end) and "the smallest key" (key).
constexpr std::string_view kNul("\0", 1);
}  // namespace

KeyRange KeyRange::Key(std::string key) { return KeyRange(std::move(key), ""); }

KeyRange KeyRange::Prefix(std::string prefix) {
  if (prefix.empty()) return All();
  std::string end = PrefixRangeEnd(prefix);
  return KeyRange(std::move(prefix), std::move(end));
}

KeyRange KeyRange::Between(std::string begin, std::string end) {
  return KeyRange(std::move(begin), std::move(end));
}

KeyRange KeyRange::FromKey(std::string key) {
  if (key.empty()) return All();
  return KeyRange(std::move(key), std::string(kNul));
}

KeyRange KeyRange::All() { return KeyRange(std::string(kNul), std::string(kNul)); }

absl::Status KeyRange::Validate() const {
  if (key_.empty()) return absl::InvalidArgumentError("key must not be empty");
  if (range_end_.empty() || range_end_ == kNul) return absl::OkStatus();
  if (range_end_ <= key_) {
    return absl::InvalidArgumentError(absl::StrCat("range end \"", absl::CHexEscape(range_end_),
                                                   "\" is not after key \"", absl::CHexEscape(key_),
                                                   "\""));
  }
  return absl::OkStatus();
}

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(kNul);
}

}  // namespace etcdgrpc
