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

// The two forms of the wire log (docs/wire-audit.md): kText, one human-readable
// line per message; kJson, one JSON object per line with the message in
// protobuf's JSON mapping, which `etcdgrpc audit` reads.
enum class WireLogFormat { kText, kJson };

// The version written as "v" in every JSON line; bumped on any change a reader
// of the previous version would misread.
inline constexpr int kWireLogJsonVersion = 1;

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
  // The message in the sink's format() (passwords and auth tokens redacted):
  // kText, one-line text proto, or for kEnd the final status ("OK" or
  // `code=N message="..."`); kJson, the message in protobuf's JSON mapping, or
  // for kEnd {"code":N,"message":"..."}.
  std::string_view text;
};

// Receives wire records. Called from whichever thread sent or received the
// message, so implementations must be thread-safe and quick.
class ETCDGRPC_EXPORT WireLogSink {
 public:
  virtual ~WireLogSink() = default;
  virtual void Record(const WireLogRecord& record) = 0;
  // The form WireLogRecord::text takes for this sink; asked once per channel.
  [[nodiscard]] virtual WireLogFormat format() const { return WireLogFormat::kText; }
};

// "<time_us> <endpoint> <method> call=<id> send|recv|end <bytes>B <text>"
[[nodiscard]] ETCDGRPC_EXPORT std::string FormatWireLogRecord(const WireLogRecord& record);

// One JSON line (without the newline) for a record whose text is in the kJson
// form: {"v":1,"time_us":..,"pid":..,"endpoint":..,"method":..,"call":..,
// "dir":"send|recv|end","bytes":..,"message"|"status":<text>}.
[[nodiscard]] ETCDGRPC_EXPORT std::string FormatWireLogJsonLine(const WireLogRecord& record);

struct WireLogFileOptions {
  WireLogFormat format = WireLogFormat::kText;
};

// A sink writing one formatted line per record to `path` ("-" = stdout),
// appending, flushed per line so nothing is lost when the process dies.
[[nodiscard]] ETCDGRPC_EXPORT absl::StatusOr<std::shared_ptr<WireLogSink>> OpenWireLogFile(
    const std::string& path, WireLogFileOptions options = {});

}  // namespace etcdgrpc
