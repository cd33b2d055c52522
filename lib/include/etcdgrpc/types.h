// Typed values shared by every etcd call: response headers, key-values and
// key ranges (single key, prefix, [begin, end), from-key, all keys).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

// Who answered and at which store revision.
struct ETCDGRPC_EXPORT ResponseHeader {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  // The key-value store revision when the request was applied (0 for calls that
  // do not touch the store).
  int64_t revision = 0;
  uint64_t raft_term = 0;

  friend bool operator==(const ResponseHeader&, const ResponseHeader&) = default;
};

struct ETCDGRPC_EXPORT KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  // Number of modifications since creation; 0 means the key does not exist.
  int64_t version = 0;
  // Lease attached to the key; 0 means none.
  int64_t lease = 0;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// The keys a Range, Delete or Watch covers, as etcd's (key, range_end) pair.
// Construct it with one of the named factories; they cannot produce an invalid
// range except where Validate() says so (empty key, end before begin).
class ETCDGRPC_EXPORT KeyRange {
 public:
  // Exactly `key`.
  [[nodiscard]] static KeyRange Key(std::string key);
  // Every key starting with `prefix`; an empty prefix means every key.
  [[nodiscard]] static KeyRange Prefix(std::string prefix);
  // Every key in [begin, end).
  [[nodiscard]] static KeyRange Between(std::string begin, std::string end);
  // Every key >= `key`.
  [[nodiscard]] static KeyRange FromKey(std::string key);
  // Every key.
  [[nodiscard]] static KeyRange All();

  // The wire form: `range_end` empty means the single key `key`; "\0" means
  // "to the end of the keyspace".
  const std::string& key() const { return key_; }
  const std::string& range_end() const { return range_end_; }
  bool is_single_key() const { return range_end_.empty(); }

  // InvalidArgument for an empty key or an end that is not after the key.
  [[nodiscard]] absl::Status Validate() const;

  friend bool operator==(const KeyRange&, const KeyRange&) = default;

 private:
  KeyRange(std::string key, std::string range_end)
      : key_(std::move(key)), range_end_(std::move(range_end)) {}
  std::string key_;
  std::string range_end_;
};

// The smallest key greater than every key with this prefix: the prefix with its
// last byte below 0xff incremented and the rest dropped; "\0" (end of keyspace)
// when no such byte exists.
[[nodiscard]] ETCDGRPC_EXPORT std::string PrefixRangeEnd(std::string_view prefix);

}  // namespace etcdgrpc
