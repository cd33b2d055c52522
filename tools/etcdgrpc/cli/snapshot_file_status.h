// What `snapshot status` reports about a snapshot file, computed as
// clientv3/snapshot's Status does: a CRC-32C over every bucket name, key and
// value, the revision of the last key in the "key" bucket, the number of keys
// and the database size.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

struct SnapshotFileStatus {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t total_key = 0;
  int64_t total_size = 0;
};

// Errors read like etcdctl's ("stat <path>: no such file or directory",
// "invalid database").
[[nodiscard]] absl::StatusOr<SnapshotFileStatus> ReadSnapshotFileStatus(const std::string& path);

// CRC-32C (Castagnoli), as Go's crc32.New(crc32.MakeTable(crc32.Castagnoli)).
[[nodiscard]] uint32_t Crc32c(uint32_t crc, std::string_view data);

}  // namespace etcdgrpc::cli
