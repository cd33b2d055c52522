// The wire log: a record of every message a client sends and receives on every
// RPC and stream, for auditing what goes over the wire. Off unless
// ClientOptions::wire_log is set; when off, nothing is intercepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

enum class WireDirection {
  kSend,     // a request message written to the call
  kReceive,  // a response message read from the call
  kEnd,      // the call's final status (`text` holds it)
};

struct ETCDGRPC_EXPORT WireLogRecord {
  // Wall-clock time in microseconds since the Unix epoch.
  int64_t time_us = 0;
  // The etcd member the call went to, "host:port".
  std::string_view endpoint;
  // Full gRPC method, e.g. "/etcdserverpb.KV/Put".
  std::string_view method;
  // Identifies the call (RPC or stream) within the client, from 1 upwards; all
  // messages of one stream share it.
  uint64_t call_id = 0;
  WireDirection direction = WireDirection::kSend;
  // Serialized size of the message (0 for kEnd).
  size_t bytes = 0;
  // The message as one-line text proto (passwords and auth tokens redacted), or
  // the final status for kEnd.
  std::string_view text;
};

// Receives wire records. Called from whichever thread sent or received the
// message, so implementations must be thread-safe and quick.
class ETCDGRPC_EXPORT WireLogSink {
 public:
  virtual ~WireLogSink() = default;
  virtual void Record(const WireLogRecord& record) = 0;
};

// "<time_us> <endpoint> <method> call=<id> send|recv|end <bytes>B <text>"
[[nodiscard]] ETCDGRPC_EXPORT std::string FormatWireLogRecord(const WireLogRecord& record);

// A sink writing one formatted line per record to `path` ("-" = stdout),
// flushed per line so nothing is lost when the process dies.
[[nodiscard]] ETCDGRPC_EXPORT absl::StatusOr<std::shared_ptr<WireLogSink>> OpenWireLogFile(
    const std::string& path);

}  // namespace etcdgrpc
