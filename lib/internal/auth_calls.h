// The one shape of every Auth facade call (lib/auth.cc, lib/auth_roles.cc): a
// request built and checked first, then the call engine, then the typed result.
#pragma once

#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "etcdgrpc/callback.h"
#include "lib/internal/client_core.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc::internal {

template <class Request, class Response, class Parse>
absl::StatusOr<std::invoke_result_t<Parse, Response&>> CallAuth(
    ClientCore& core, const UnaryRpc<Request, Response>& rpc,
    std::type_identity_t<absl::StatusOr<Request>> request, Parse parse) {
  if (!request.ok()) return request.status();
  absl::StatusOr<Response> response = CallUnary(*core.connection, rpc, *request);
  if (!response.ok()) return response.status();
  return parse(*response);
}

// Bad input: `done` runs at once, on the calling thread.
template <class Request, class Response, class Parse>
void CallAuthAsync(ClientCore& core, const UnaryRpc<Request, Response>& rpc,
                   std::type_identity_t<absl::StatusOr<Request>> request, Parse parse,
                   Callback<std::invoke_result_t<Parse, Response&>> done) {
  if (!request.ok()) return std::move(done)(request.status());
  CallUnaryAsync(*core.connection, *core.async_calls, rpc, *std::move(request), std::move(parse),
                 std::move(done));
}

}  // namespace etcdgrpc::internal
