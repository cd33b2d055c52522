#include "cli/empty_range.h"

namespace etcdgrpc::cli {

absl::StatusOr<GetResult> EmptyGet(Client& client, const KeyRange& range, GetOptions options) {
  options.count_only = true;
  options.keys_only = false;
  options.limit = 0;
  options.sort_order = SortOrder::kNone;
  options.sort_target = SortTarget::kKey;
  absl::StatusOr<GetResult> result = client.Get(range.key(), options);
  if (!result.ok()) return result.status();
  GetResult empty;
  empty.header = result->header;
  return empty;
}

absl::StatusOr<DeleteResult> EmptyDelete(Client& client, const KeyRange& range) {
  absl::StatusOr<GetResult> read = EmptyGet(client, range, GetOptions{});
  if (!read.ok()) return read.status();
  DeleteResult empty;
  empty.header = read->header;
  return empty;
}

}  // namespace etcdgrpc::cli
