// Waiting for a resolver's view to catch up, for the resolver's tests. Header-only: only tests
// that link etcdgrpc::resolver include it.
#ifndef ETCDGRPC_TESTS_SUPPORT_RESOLVER_WAITS_H_
#define ETCDGRPC_TESTS_SUPPORT_RESOLVER_WAITS_H_

#include <cstdint>

#include "absl/time/time.h"
#include "etcdgrpc/resolver/service_view.h"
#include "wait_until.h"

namespace etcdgrpc::testing {

// Until `view`'s snapshot is at `revision` or later (polled every 5 ms; false after `timeout`).
inline bool WaitForRevision(const resolver::ServiceView& view, int64_t revision,
                            absl::Duration timeout = absl::Seconds(10)) {
  return WaitUntil([&] { return view.snapshot()->revision >= revision; }, timeout,
                   absl::Milliseconds(5));
}

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_RESOLVER_WAITS_H_
