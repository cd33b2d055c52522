// Options and typed results of etcd's KV service: Range, Put, DeleteRange,
// Compact. Transactions are in txn.h.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

enum class SortOrder { kNone, kAscend, kDescend };
enum class SortTarget { kKey, kVersion, kCreate, kMod, kValue };

struct ETCDGRPC_EXPORT GetOptions {
  // At most this many keys; 0 = no limit.
  int64_t limit = 0;
  // Read the store as of this revision; 0 = the newest.
  int64_t revision = 0;
  // Answered by the member locally, without consensus (may be stale).
  bool serializable = false;
  bool keys_only = false;
  bool count_only = false;
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  // Filters on revisions; 0 = no filter.
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

struct ETCDGRPC_EXPORT GetResult {
  ResponseHeader header;
  std::vector<KeyValue> kvs;
  // More keys matched than `limit` allowed.
  bool more = false;
  // Number of keys in the range (before `limit`).
  int64_t count = 0;

  friend bool operator==(const GetResult&, const GetResult&) = default;
};

struct ETCDGRPC_EXPORT PutOptions {
  // Attach the key to this lease; 0 = no lease.
  int64_t lease = 0;
  // Return the key-value before the put.
  bool prev_kv = false;
  // Keep the current value (only the lease changes); fails if the key is absent.
  bool ignore_value = false;
  // Keep the current lease; fails if the key is absent.
  bool ignore_lease = false;
};

struct ETCDGRPC_EXPORT PutResult {
  ResponseHeader header;
  std::optional<KeyValue> prev_kv;

  friend bool operator==(const PutResult&, const PutResult&) = default;
};

struct ETCDGRPC_EXPORT DeleteOptions {
  // Return the deleted key-values.
  bool prev_kv = false;
};

struct ETCDGRPC_EXPORT DeleteResult {
  ResponseHeader header;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;

  friend bool operator==(const DeleteResult&, const DeleteResult&) = default;
};

struct ETCDGRPC_EXPORT CompactOptions {
  // Wait until the compaction is physically applied in the backend.
  bool physical = false;
};

}  // namespace etcdgrpc
