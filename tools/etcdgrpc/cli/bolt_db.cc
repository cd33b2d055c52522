#include "cli/bolt_db.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::cli {
namespace {

// bbolt's layout (page.go, db.go): a 16-byte page header {id u64, flags u16,
// count u16, overflow u32}, then the page's elements; little-endian.
constexpr size_t kPageHeader = 16;
constexpr size_t kElement = 16;       // branch {pos, ksize, pgid}; leaf {flags, pos, ksize, vsize}
constexpr size_t kBucketHeader = 16;  // {root pgid u64, sequence u64}
constexpr uint16_t kBranchPage = 0x01;
constexpr uint16_t kLeafPage = 0x02;
constexpr uint32_t kBucketLeaf = 0x01;
constexpr uint32_t kMagic = 0xED0CDAED;
constexpr uint32_t kVersion = 2;
// A corrupt file must not send the walk around in circles.
constexpr int kMaxDepth = 64;

template <class T>
T Load(std::string_view bytes, size_t offset) {
  T value{};
  if (offset + sizeof(T) <= bytes.size()) std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

struct Meta {
  uint32_t magic, version, page_size;
  uint64_t root, high_water, txid, checksum;
  std::string_view bytes;  // up to the checksum

  static Meta At(std::string_view data, size_t offset) {
    const std::string_view m = data.substr(std::min(data.size(), offset + kPageHeader), 64);
    return Meta{.magic = Load<uint32_t>(m, 0),
                .version = Load<uint32_t>(m, 4),
                .page_size = Load<uint32_t>(m, 8),
                .root = Load<uint64_t>(m, 16),
                .high_water = Load<uint64_t>(m, 40),
                .txid = Load<uint64_t>(m, 48),
                .checksum = Load<uint64_t>(m, 56),
                .bytes = m.substr(0, 56)};
  }

  // meta.validate(): magic, version, then the FNV-1a checksum.
  absl::Status Validate() const {
    if (bytes.size() < 56 || magic != kMagic) return absl::DataLossError("invalid database");
    if (version != kVersion) return absl::DataLossError("version mismatch");
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : bytes) {
      hash ^= static_cast<uint8_t>(c);
      hash *= 0x100000001b3ULL;
    }
    if (checksum != 0 && checksum != hash) return absl::DataLossError("checksum error");
    return absl::OkStatus();
  }
};

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("corrupt bbolt database: ", what));
}

}  // namespace

absl::StatusOr<BoltDb> BoltDb::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("open ", path, ": cannot read the file"));
  std::ostringstream contents;
  contents << in.rdbuf();
  BoltDb db;
  db.data_ = std::move(contents).str();
  // The page size comes from meta page 0 when it is valid; else the OS page
  // size is assumed, as bolt.Open does.
  const Meta first = Meta::At(db.data_, 0);
  const uint32_t page_size = first.Validate().ok() ? first.page_size : 4096;
  if (page_size < kPageHeader + 64 || db.data_.size() < 2 * size_t{page_size}) {
    return absl::DataLossError("file size too small");
  }
  const Meta second = Meta::At(db.data_, page_size);
  const absl::Status first_ok = first.Validate();
  const absl::Status second_ok = second.Validate();
  if (!first_ok.ok() && !second_ok.ok()) return first_ok;
  // The valid meta with the higher transaction id.
  const Meta* meta = &first;
  if (!first_ok.ok() || (second_ok.ok() && second.txid > first.txid)) meta = &second;
  db.page_size_ = page_size;
  db.root_ = meta->root;
  db.high_water_ = meta->high_water;
  return db;
}

absl::StatusOr<std::string_view> BoltDb::Page(uint64_t id) const {
  const uint64_t offset = id * page_size_;
  if (id < 2 || offset + kPageHeader > data_.size()) {
    return Corrupt(absl::StrCat("page ", id, " is outside the file"));
  }
  const uint32_t overflow = Load<uint32_t>(data_, offset + 12);
  const uint64_t length = (uint64_t{overflow} + 1) * page_size_;
  if (offset + length > data_.size()) {
    return Corrupt(absl::StrCat("page ", id, " runs past the end of the file"));
  }
  return std::string_view(data_).substr(offset, length);
}

absl::Status BoltDb::Walk(std::string_view page, Visit visit, int depth) const {
  if (depth > kMaxDepth) return Corrupt("the page tree is too deep");
  const uint16_t flags = Load<uint16_t>(page, 8);
  const uint16_t count = Load<uint16_t>(page, 10);
  if (kPageHeader + size_t{count} * kElement > page.size()) {
    return Corrupt("a page has more elements than fit in it");
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t element = kPageHeader + i * kElement;
    if (flags & kBranchPage) {
      absl::StatusOr<std::string_view> child = Page(Load<uint64_t>(page, element + 8));
      if (!child.ok()) return child.status();
      if (absl::Status s = Walk(*child, visit, depth + 1); !s.ok()) return s;
    } else if (flags & kLeafPage) {
      const uint32_t leaf_flags = Load<uint32_t>(page, element);
      const size_t key = element + Load<uint32_t>(page, element + 4);
      const size_t key_size = Load<uint32_t>(page, element + 8);
      const size_t value_size = Load<uint32_t>(page, element + 12);
      if (key + key_size + value_size > page.size()) {
        return Corrupt("a key or value runs past its page");
      }
      const BoltEntry entry{.key = page.substr(key, key_size),
                            .value = page.substr(key + key_size, value_size),
                            .is_bucket = (leaf_flags & kBucketLeaf) != 0};
      if (absl::Status s = visit(entry); !s.ok()) return s;
    } else {
      return Corrupt(absl::StrCat("unexpected page type ", flags));
    }
  }
  return absl::OkStatus();
}

absl::Status BoltDb::WalkBucket(std::string_view header, Visit visit) const {
  if (header.size() < kBucketHeader) return Corrupt("a bucket header is too short");
  const uint64_t root = Load<uint64_t>(header, 0);
  // Root 0: an inline bucket, its one leaf page right after the header.
  if (root == 0) return Walk(header.substr(kBucketHeader), visit, 0);
  absl::StatusOr<std::string_view> page = Page(root);
  if (!page.ok()) return page.status();
  return Walk(*page, visit, 0);
}

absl::Status BoltDb::ForEachRoot(Visit visit) const {
  absl::StatusOr<std::string_view> page = Page(root_);
  if (!page.ok()) return page.status();
  return Walk(*page, visit, 0);
}

absl::Status BoltDb::ForEach(const BoltEntry& bucket, Visit visit) const {
  if (!bucket.is_bucket) return absl::InvalidArgumentError("not a bucket");
  return WalkBucket(bucket.value, visit);
}

}  // namespace etcdgrpc::cli
