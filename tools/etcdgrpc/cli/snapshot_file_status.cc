#include "cli/snapshot_file_status.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/bolt_db.h"

namespace etcdgrpc::cli {
namespace {

std::array<uint32_t, 256> MakeCastagnoliTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

// mvcc's revision key: 8 bytes of main revision, big-endian, then '_' and
// the sub revision.
int64_t MainRevision(std::string_view key) {
  uint64_t main = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) main = (main << 8) | uint8_t(key[i]);
  return static_cast<int64_t>(main);
}

}  // namespace

uint32_t Crc32c(uint32_t crc, std::string_view data) {
  static const std::array<uint32_t, 256> kTable = MakeCastagnoliTable();
  crc = ~crc;
  for (char c : data) crc = kTable[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

absl::StatusOr<SnapshotFileStatus> ReadSnapshotFileStatus(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    std::string text = std::strerror(errno);
    text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
    return absl::NotFoundError(absl::StrCat("stat ", path, ": ", text));
  }
  absl::StatusOr<BoltDb> db = BoltDb::Open(path);
  if (!db.ok()) return db.status();
  SnapshotFileStatus status;
  status.total_size = db->size();
  uint32_t crc = 0;
  absl::Status walked = db->ForEachRoot([&](const BoltEntry& bucket) -> absl::Status {
    if (!bucket.is_bucket) {
      return absl::DataLossError(
          absl::StrCat("cannot get hash of bucket ", std::string(bucket.key)));
    }
    crc = Crc32c(crc, bucket.key);
    const bool revisions = bucket.key == "key";
    return db->ForEach(bucket, [&](const BoltEntry& entry) {
      crc = Crc32c(crc, entry.key);
      // bolt's ForEach gives a nested bucket a nil value.
      if (!entry.is_bucket) crc = Crc32c(crc, entry.value);
      if (revisions) status.revision = MainRevision(entry.key);
      ++status.total_key;
      return absl::OkStatus();
    });
  });
  if (!walked.ok()) return walked;
  status.hash = crc;
  return status;
}

}  // namespace etcdgrpc::cli
