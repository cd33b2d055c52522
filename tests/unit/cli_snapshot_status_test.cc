// The bbolt reader and `snapshot status` against a snapshot etcd 3.4.23 made
// (data/etcd_snapshot.db: keys put, overwritten, deleted, a 5,000-byte value
// on overflow pages, a lease), with the figures etcdctl 3.4.23 printed for it:
// {"hash":1566209228,"revision":7,"totalKey":19,"totalSize":61440}.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli/bolt_db.h"
#include "cli/snapshot_file_status.h"
#include "gtest/gtest.h"

namespace etcdgrpc::cli {
namespace {

const std::string kSnapshot = std::string(ETCDGRPC_TEST_DATA) + "/etcd_snapshot.db";

TEST(SnapshotFileStatusTest, MatchesWhatEtcdctlPrintedForTheSameFile) {
  absl::StatusOr<SnapshotFileStatus> status = ReadSnapshotFileStatus(kSnapshot);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->hash, 1566209228u);
  EXPECT_EQ(status->revision, 7);
  EXPECT_EQ(status->total_key, 19);
  EXPECT_EQ(status->total_size, 61440);
}

TEST(BoltDbTest, ReadsEtcdsBucketsAndTheOverflowingValue) {
  absl::StatusOr<BoltDb> db = BoltDb::Open(kSnapshot);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->page_size(), 4096u);
  std::map<std::string, int> keys_per_bucket;
  size_t largest_value = 0;
  std::string previous;
  ASSERT_TRUE(db->ForEachRoot([&](const BoltEntry& bucket) {
                  EXPECT_TRUE(bucket.is_bucket);
                  EXPECT_LT(previous, std::string(bucket.key)) << "buckets in key order";
                  previous = std::string(bucket.key);
                  return db->ForEach(bucket, [&](const BoltEntry& entry) {
                    ++keys_per_bucket[std::string(bucket.key)];
                    largest_value = std::max(largest_value, entry.value.size());
                    return absl::OkStatus();
                  });
                }).ok());
  // etcd's backend buckets; "key" holds one revision per write (6 puts and a delete).
  EXPECT_EQ(keys_per_bucket["key"], 6);
  EXPECT_EQ(keys_per_bucket["lease"], 1);
  EXPECT_TRUE(keys_per_bucket.count("meta"));
  EXPECT_TRUE(keys_per_bucket.count("members"));
  // The mvcc record of the 5,000-byte value spans pages.
  EXPECT_GT(largest_value, 5000u);
}

TEST(SnapshotFileStatusTest, CastagnoliCheckValue) {
  // The standard check value of CRC-32C.
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);
  // Incremental, as Go's hash.Hash32 writes are.
  EXPECT_EQ(Crc32c(Crc32c(0, "1234"), "56789"), 0xE3069283u);
}

TEST(SnapshotFileStatusTest, ErrorsReadLikeEtcdctls) {
  EXPECT_EQ(ReadSnapshotFileStatus("/nonexistent/x.db").status().message(),
            "stat /nonexistent/x.db: no such file or directory");
  const std::string garbage = ::testing::TempDir() + "/garbage.db";
  {
    std::ofstream out(garbage, std::ios::binary);
    out << std::string(3 * 4096, 'x');
  }
  EXPECT_EQ(ReadSnapshotFileStatus(garbage).status().message(), "invalid database");
  {
    std::ofstream out(garbage, std::ios::binary | std::ios::trunc);
    out << "short";
  }
  EXPECT_EQ(ReadSnapshotFileStatus(garbage).status().message(), "file size too small");
  std::remove(garbage.c_str());
}

TEST(BoltDbTest, ACorruptPageReferenceIsAnErrorNotACrash) {
  std::ifstream in(kSnapshot, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string data = bytes.str();
  // Every page after the metas and the freelist: overwrite its header's
  // element count, so walks reach elements outside their page.
  for (size_t page = 2; page * 4096 < data.size(); ++page) {
    data[page * 4096 + 10] = '\xff';
    data[page * 4096 + 11] = '\x7f';
  }
  const std::string corrupt = ::testing::TempDir() + "/corrupt.db";
  {
    std::ofstream out(corrupt, std::ios::binary);
    out << data;
  }
  absl::StatusOr<SnapshotFileStatus> status = ReadSnapshotFileStatus(corrupt);
  EXPECT_FALSE(status.ok());
  std::remove(corrupt.c_str());
}

}  // namespace
}  // namespace etcdgrpc::cli
