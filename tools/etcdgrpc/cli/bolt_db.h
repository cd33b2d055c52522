// A small read-only reader of bbolt database files (etcd's backend, and what
// `snapshot save` writes): meta pages, then branch and leaf pages from the root
// bucket down, inline buckets included. Enough for `snapshot status`; no
// freelist, no writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

struct BoltEntry {
  std::string_view key;
  // For a bucket: its header (and inline page); pass the entry to
  // BoltDb::ForEach to read it.
  std::string_view value;
  bool is_bucket = false;
};

class BoltDb {
 public:
  // Reads the whole file and picks the valid meta page with the highest
  // transaction id, as bolt.Open does; errors are bbolt's ("invalid database",
  // "version mismatch", "checksum error", "file size too small").
  [[nodiscard]] static absl::StatusOr<BoltDb> Open(const std::string& path);

  // What bolt's Tx.Size() reports: the high-water page id times the page size.
  int64_t size() const { return static_cast<int64_t>(high_water_) * page_size_; }
  uint32_t page_size() const { return page_size_; }

  using Visit = absl::FunctionRef<absl::Status(const BoltEntry&)>;
  // The root bucket's entries (the top-level buckets), in key order.
  [[nodiscard]] absl::Status ForEachRoot(Visit visit) const;
  // The entries of `bucket` (an entry with is_bucket), in key order.
  [[nodiscard]] absl::Status ForEach(const BoltEntry& bucket, Visit visit) const;

 private:
  BoltDb() = default;
  // The page at `id`, bounds-checked against the file (overflow pages included).
  absl::StatusOr<std::string_view> Page(uint64_t id) const;
  absl::Status Walk(std::string_view page, Visit visit, int depth) const;
  absl::Status WalkBucket(std::string_view header, Visit visit) const;

  std::string data_;
  uint32_t page_size_ = 0;
  uint64_t root_ = 0;
  uint64_t high_water_ = 0;
};

}  // namespace etcdgrpc::cli
