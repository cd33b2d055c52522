// The SHA-256 the snapshot check uses: FIPS 180-4 vectors, and the checksum
// etcd 3.4.23 appended to a real snapshot (data/etcd_snapshot.db).
#include "lib/internal/sha256.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace etcdgrpc::internal {
namespace {

std::string Hex(std::string_view data, size_t piece = 0) {
  Sha256 sha;
  if (piece == 0) {
    sha.Update(data);
  } else {
    for (size_t i = 0; i < data.size(); i += piece) sha.Update(data.substr(i, piece));
  }
  const auto digest = sha.Finish();
  return absl::BytesToHexString(std::string(digest.begin(), digest.end()));
}

TEST(Sha256Test, StandardVectors) {
  EXPECT_EQ(Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(Hex(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(Hex(million, 997), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, MatchesTheChecksumEtcdAppendedToASnapshot) {
  std::ifstream in(std::string(ETCDGRPC_TEST_DATA) + "/etcd_snapshot.db", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  ASSERT_EQ(data.size() % 512, 32u);
  const std::string_view db = std::string_view(data).substr(0, data.size() - 32);
  EXPECT_EQ(Hex(db), absl::BytesToHexString(data.substr(data.size() - 32)));
  EXPECT_EQ(Hex(db, 4096), absl::BytesToHexString(data.substr(data.size() - 32)));
}

}  // namespace
}  // namespace etcdgrpc::internal
