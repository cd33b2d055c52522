// Waits until every reachable etcd member has applied a change (its store
// revision at or past a linearizable read made after the change): the
// "propagated" step of a graceful drain (docs/registry-health.md).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::registry::internal {

struct Propagation {
  // OK: every member that answered is at or past the revision. Otherwise
  // the read failed, or a member was still behind at the deadline.
  absl::Status status;
  int members = 0;
  int applied = 0;
  // No answer (an error, or none before the deadline).
  int unreachable = 0;
};

// Reads `key` (linearizable, so its revision is at or past any change
// committed before the call), then asks each of the client's endpoints for
// its revision (Maintenance.Status, all at once, again every 5 ms for those
// behind) until every one is there, failed, or `deadline` (a MonoNow() time)
// passes.
Propagation WaitUntilApplied(Client& client, const std::string& key, absl::Time deadline);

}  // namespace etcdgrpc::registry::internal
