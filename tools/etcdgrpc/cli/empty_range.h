// Answers for ranges whose end is not after their key: etcd answers them with
// nothing, but the client library refuses to send them, so `get` and `del`
// build etcd's answer around a header read from the same member.
#pragma once

#include "absl/status/statusor.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::cli {

// A result with no keys and the header of a count-only read of `range.key()`
// with `options` (so --rev and --consistency fail as etcd would).
[[nodiscard]] absl::StatusOr<GetResult> EmptyGet(Client& client, const KeyRange& range,
                                                 GetOptions options);
[[nodiscard]] absl::StatusOr<DeleteResult> EmptyDelete(Client& client, const KeyRange& range);

}  // namespace etcdgrpc::cli
