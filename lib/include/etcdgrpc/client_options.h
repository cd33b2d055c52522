// Options of an etcd client: endpoints, time-outs, credentials, wire log.
#pragma once

#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "etcdgrpc/backoff_options.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/wire_log.h"

namespace etcdgrpc {

// TLS for every endpoint (see ClientOptions::tls). Files are read by Connect(); one that cannot
// be read is an InvalidArgument error naming it. Servers are verified unless
// skip_server_verification says otherwise (for tests, as etcdctl's --insecure-skip-tls-verify).
struct ETCDGRPC_EXPORT TlsOptions {
  // PEM file of the CA(s) that signed the servers' certificates. Empty: gRPC's default roots
  // ($GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, else the roots gRPC ships).
  std::string ca_file = {};
  // PEM files of the client certificate (chain) and its key, for mutual TLS: both or neither.
  std::string cert_file = {};
  std::string key_file = {};
  // Name to verify in the server certificate instead of the endpoint's host.
  std::string server_name_override = {};
  // Accept any server certificate, unverified (etcdctl's --insecure-skip-tls-verify): the
  // connection is encrypted but not authenticated. For tests and self-signed setups only.
  bool skip_server_verification = false;
};

// How the client's one keep-alive stream renews kept leases.
struct ETCDGRPC_EXPORT KeepAliveOptions {
  // A lease is renewed when this fraction of its TTL has passed since its last
  // renewal: at most one request per lease per interval.
  double renew_fraction = 1.0 / 3.0;
  // Renewals falling due within one tick are written together as one burst;
  // the timer wakes at most once per tick.
  absl::Duration tick = absl::Milliseconds(100);
};

// How the client notices a member that is up on TCP but does not answer (a
// stopped process, a GC or disk stall, a paused VM, a black-holed network) and
// moves off it. README.md, "Failures", says what each fault costs.
struct ETCDGRPC_EXPORT LivenessOptions {
  // gRPC keepalive (HTTP/2 PING) on every channel while a call or stream is
  // open; a ping not acknowledged within `keepalive_timeout` closes the
  // connection and fails its calls with UNAVAILABLE. etcd answers pings sent
  // more often than its --grpc-keepalive-min-time (5 s by default) with GOAWAY
  // "too_many_pings", so keep keepalive_time at or above that. Both must be
  // positive; InfiniteDuration() for keepalive_time sends no pings.
  absl::Duration keepalive_time = absl::Seconds(10);
  absl::Duration keepalive_timeout = absl::Seconds(5);
  // Keep-alive stream: renewals outstanding and no answer for this long (at
  // most the shortest kept TTL x renew_fraction, and at most the request
  // time-out) mean the member is stuck: the stream moves to another endpoint
  // and renews every kept lease there at once. About 1 s is what survives a
  // frozen leader: the followers hold forwarded renewals for etcd's request
  // time-out (~7 s), while a new leader is elected within ~1 s.
  absl::Duration renewal_timeout = absl::Seconds(1);
  // Watch stream: with watches open and nothing received for
  // `watch_probe_after`, a progress request is sent; no answer within
  // `probe_timeout` means the member is stuck: the stream moves to another
  // endpoint and every watch resumes from its next revision.
  absl::Duration watch_probe_after = absl::Seconds(2);
  absl::Duration probe_timeout = absl::Seconds(1);
  // A message write that does not complete within this time (HTTP/2 flow
  // control against a member that stopped reading) breaks its stream.
  absl::Duration write_timeout = absl::Seconds(2);
  // An endpoint that failed (UNAVAILABLE, a stall, an unanswered probe, a
  // call past its deadline) is skipped while a healthy one exists, for
  // `suspect_initial`, doubling with each further failure up to `suspect_max`;
  // anything it answers clears it.
  absl::Duration suspect_initial = absl::Seconds(2);
  absl::Duration suspect_max = absl::Seconds(30);
};

struct ETCDGRPC_EXPORT ClientOptions {
  // etcd members as "host:port" (also accepted: "http://host:port",
  // "https://host:port", "[::1]:port").
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  // Connect() fails if no endpoint is reachable within this time. Zero: do not
  // wait, connect on the first call.
  absl::Duration dial_timeout = absl::Seconds(2);
  // Deadline of each unary call.
  absl::Duration request_timeout = absl::Seconds(5);
  // Authentication: Connect() calls Auth.Authenticate and every call and
  // stream carries the token (metadata "token"), renewed when etcd refuses it
  // (expired, or forgotten by a restarted etcd). Empty username: none.
  std::string username;
  std::string password;
  // Transport security. Set: every endpoint uses TLS ("host:port" too, as with etcdctl's
  // --cacert; an explicit "http://" endpoint is then refused). Unset: "https://" endpoints use
  // TLS with gRPC's default roots and no client certificate, the others plaintext.
  std::optional<TlsOptions> tls;
  // Ask etcd to refuse calls and end streams on a member without a leader
  // (metadata "hasleader"): a member cut off from its peers then sends the
  // client elsewhere instead of serving stale reads and holding watches.
  bool require_leader = true;
  // Largest response message accepted; etcd's own client allows any size.
  int max_receive_bytes = INT_MAX;
  // Records every message on the wire when set.
  std::shared_ptr<WireLogSink> wire_log;
  // Unary writes (Put, Delete, Txn, Compact) are sent at most once: a write
  // that fails with UNAVAILABLE may or may not have been applied, so it is not
  // retried on another endpoint unless this is set. Reads are always retried.
  bool retry_writes = false;
  // Reconnecting the watch and keep-alive streams after a break.
  BackoffOptions stream_backoff;
  KeepAliveOptions keepalive;
  // Detecting members that are up but do not answer.
  LivenessOptions liveness;
  // Listeners run on a stream's reader thread. One that does not return
  // within this time gets the stream's reading handed to a new thread, so a
  // slow listener does not hold up the others (see README, "Watch").
  absl::Duration slow_listener_handoff = absl::Milliseconds(200);

  // --- metrics (docs/metrics.md) ---
  // Where the client records its calls, streams, watches, leases and endpoint health. Null (the
  // default): nothing is recorded, at the cost of one pointer test per call or message.
  std::shared_ptr<MetricsRegistry> metrics;
};

}  // namespace etcdgrpc
