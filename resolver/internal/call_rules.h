// What both forms of a balanced call (sync_call.cc, async_call.cc) share:
// which failures are retried, picking an endpoint the call has not tried, the
// attempt deadline, and the text of the final status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "etcdgrpc/resolver/balancer.h"
#include "etcdgrpc/resolver/call_policy.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace etcdgrpc::resolver::call_engine {

// True when gRPC failed the attempt before it left this process: it could
// not connect to the endpoint (gRPC 1.51's UNAVAILABLE "failed to connect to
// all addresses", which a test pins). The only failure a call that is not
// idempotent retries.
[[nodiscard]] bool NeverLeftClient(const grpc::Status& status);

// Whether `status` may be retried under `policy` (attempts and time aside).
[[nodiscard]] bool IsRetryable(const grpc::Status& status, const CallPolicy& policy);

// What a pick the call does not use (the endpoint was tried already) and a
// cancelled hedged attempt report to the balancer: neither a success nor a
// failure of the endpoint.
[[nodiscard]] grpc::Status NotUsedStatus();

// A pick whose endpoint is not in `tried`, while the balancer has such an
// endpoint and hands it out within a few picks (round robin, power of two
// choices do; pick-first only once the tried ones are failing); otherwise
// the balancer's first pick. Picks not used are reported NotUsedStatus().
// Never waits (PickNow): nullopt when the balancer has no endpoint now, and
// the engine polls (its threads, the call timer and gRPC's callback threads,
// must not block).
[[nodiscard]] std::optional<PickResult> PickAvoiding(Balancer& balancer,
                                                     const std::vector<std::string>& tried);

// Sets `context`'s deadline: the attempt timeout, cut to what is left before
// `overall_deadline` (a MonoNow() time). True when it was cut (by more than
// kCutShortSlack: an attempt timeout equal to the overall one is not cut).
[[nodiscard]] bool SetAttemptDeadline(grpc::ClientContext& context, const CallPolicy& policy,
                                      absl::Time overall_deadline);
inline constexpr absl::Duration kCutShortSlack = absl::Milliseconds(1);

// What an attempt reports to the balancer (PickResult::Done): its status,
// but CANCELLED (no outcome) for a DEADLINE_EXCEEDED of an attempt the
// overall deadline cut short: the endpoint did not have its attempt timeout,
// so its slowness is not known to be a failure.
[[nodiscard]] grpc::Status OutcomeForBalancer(const grpc::Status& status, bool cut_short);

// The call's deadline (MonoNow() time) for a call starting now.
[[nodiscard]] absl::Time OverallDeadline(const CallPolicy& policy);

// Failure of attempt `attempt` (1-based): its code and message, then
// "[endpoint method attempt k of n; tried a, b]" and `why_stopped` if any.
[[nodiscard]] absl::Status FinalStatus(const grpc::Status& status, const std::string& method,
                                       const std::string& endpoint, int attempt,
                                       const CallPolicy& policy,
                                       const std::vector<std::string>& tried,
                                       absl::string_view why_stopped);

// UNAVAILABLE: the balancer had no endpoint within the overall timeout.
[[nodiscard]] absl::Status NoEndpointStatus(const std::string& method, const CallPolicy& policy,
                                            int attempts);

// "no time for another attempt within the overall timeout of 5s".
[[nodiscard]] std::string OutOfTime(const CallPolicy& policy);

}  // namespace etcdgrpc::resolver::call_engine
