#include "concurrency/internal/keys.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace etcdgrpc::concurrency::internal {

std::string PrefixOf(const std::string& name) { return name + "/"; }

std::string KeyOf(const std::string& prefix, int64_t lease_id) {
  return absl::StrCat(prefix, absl::Hex(lease_id));
}

GetOptions OldestCreated() {
  return GetOptions{
      .limit = 1, .sort_order = SortOrder::kAscend, .sort_target = SortTarget::kCreate};
}

GetOptions NewestCreatedBefore(int64_t revision) {
  return GetOptions{.limit = 1,
                    .sort_order = SortOrder::kDescend,
                    .sort_target = SortTarget::kCreate,
                    .max_create_revision = revision - 1};
}

std::string Printable(const std::string& key) {
  return absl::StrCat("\"", absl::CHexEscape(key.substr(0, 200)), "\"");
}

}  // namespace etcdgrpc::concurrency::internal
