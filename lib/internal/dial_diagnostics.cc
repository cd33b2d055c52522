#include "lib/internal/dial_diagnostics.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace etcdgrpc::internal {

// Why an endpoint is unreachable, in gRPC's words (e.g. "Connection
// refused"): a fail-fast call on a channel in TRANSIENT_FAILURE returns the
// last connection error at once.
std::string ProbeFailure(EndpointStubs& stubs) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  grpc::Status status = stubs.maintenance->Status(&context, request, &response);
  if (status.ok()) return "reachable now";
  std::string reason = status.error_message();
  // gRPC names a failed verification of the server ("certificate verify failed", "Peer name
  // ... is not in peer certificate"), but when the server breaks the connection off it only
  // says so: its TLS alert is logged, not returned. Say what that most likely means.
  // Measured with gRPC 1.51 and etcd 3.4: a TLS client that etcd refuses (no or a foreign
  // client certificate) sees "Endpoint read failed" or "Connection reset by peer"; one talking
  // to a plaintext port, and a plaintext client talking to a TLS port, "Socket closed".
  const bool refused = absl::StrContains(reason, "Endpoint read failed") ||
                       absl::StrContains(reason, "Connection reset by peer") ||
                       absl::StrContains(reason, "Broken pipe");
  const bool closed = absl::StrContains(reason, "Socket closed");
  const bool broken_off = refused || closed;
  if (stubs.tls && closed && !absl::StrContains(reason, "Ssl handshake failed")) {
    absl::StrAppend(&reason,
                    "; the server closed the connection during the TLS handshake: does it "
                    "serve TLS on this port?");
  } else if (stubs.tls && refused && !absl::StrContains(reason, "Ssl handshake failed")) {
    absl::StrAppend(
        &reason, "; the server closed the TLS connection after the handshake: ",
        stubs.tls_client_cert.empty()
            ? "it probably requires a client certificate and none was given (tls.cert_file, "
              "tls.key_file)"
            : absl::StrCat("it probably does not accept the client certificate ",
                           stubs.tls_client_cert, " (not signed by a CA it trusts?)"));
  } else if (broken_off && !stubs.tls) {
    absl::StrAppend(&reason, "; if the server uses TLS, use https:// or ClientOptions::tls");
  }
  return reason;
}

absl::Status CertificatesRejected(const std::vector<std::unique_ptr<EndpointStubs>>& endpoints) {
  std::vector<std::string> failures;
  for (const auto& endpoint : endpoints) {
    if (!endpoint->tls || endpoint->channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
      return absl::OkStatus();
    }
    std::string reason = ProbeFailure(*endpoint);
    if (!absl::StrContains(reason, "certificate verify failed") &&
        !absl::StrContains(reason, "is not in peer certificate")) {
      return absl::OkStatus();
    }
    failures.push_back(absl::StrCat(endpoint->address, " (", reason, ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("no etcd endpoint reachable: the server certificate was rejected: ",
                   absl::StrJoin(failures, "; ")));
}

}  // namespace etcdgrpc::internal
