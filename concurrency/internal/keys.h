// Go's key layout for locks and elections (clientv3/concurrency): every
// session's key is "<prefix>/<lease id in %x>" and the holder is the key with
// the smallest create revision; the reads that find it, and key text for
// error messages.
#pragma once

#include <cstdint>
#include <string>

#include "etcdgrpc/kv.h"

namespace etcdgrpc::concurrency::internal {

// "<name>/": Go's NewMutex and NewElection add the slash.
[[nodiscard]] std::string PrefixOf(const std::string& name);
// "<prefix><lease in lowercase hex, no padding>" (Go's fmt "%s%x").
[[nodiscard]] std::string KeyOf(const std::string& prefix, int64_t lease_id);

// Go's WithFirstCreate: the oldest key of the prefix (the holder, the leader).
[[nodiscard]] GetOptions OldestCreated();
// Go's WithLastCreate + WithMaxCreateRev(revision - 1): the newest key created
// before `revision`, the one a waiter waits for.
[[nodiscard]] GetOptions NewestCreatedBefore(int64_t revision);

// The key quoted, with bytes that are not printable ASCII escaped.
[[nodiscard]] std::string Printable(const std::string& key);

}  // namespace etcdgrpc::concurrency::internal
