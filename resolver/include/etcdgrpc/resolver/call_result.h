// What a call through BalancedStub (balanced_call.h) reports: its status,
// which endpoints it tried and how many attempts it made.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "etcdgrpc/export.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver {

struct ETCDGRPC_EXPORT CallResult {
  // OK, or the deciding attempt's code and message followed by
  // "[<endpoint> <method> attempt <k> of <max>; tried <a>, <b>]" (and why no
  // further attempt was made when time ran out). INVALID_ARGUMENT for a bad
  // policy, before any attempt.
  absl::Status status;
  // The deciding attempt's status exactly as gRPC returned it (details and
  // all); OK when no attempt was made.
  grpc::Status grpc_status;
  // Attempts started, hedged ones included.
  int attempts = 0;
  // The address of each attempt, in the order they started.
  std::vector<std::string> tried;
  // The address of the deciding attempt (the one that answered, or the last
  // to fail); empty when none started.
  std::string endpoint;

  [[nodiscard]] bool ok() const { return status.ok(); }
};

}  // namespace etcdgrpc::resolver
