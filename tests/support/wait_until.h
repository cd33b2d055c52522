// Bounded polling for the tests: wait until a condition holds or a timeout passes, instead of a
// deadline loop in every test.
#ifndef ETCDGRPC_TESTS_SUPPORT_WAIT_UNTIL_H_
#define ETCDGRPC_TESTS_SUPPORT_WAIT_UNTIL_H_

#include <functional>

#include "absl/time/time.h"

namespace etcdgrpc::testing {

// Calls `done` every `poll` until it returns true (then true) or `timeout` has passed (then
// false); the last call that returns false comes at or after the deadline.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout,
               absl::Duration poll = absl::Milliseconds(20));

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_WAIT_UNTIL_H_
