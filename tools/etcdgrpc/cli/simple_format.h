// etcdctl's default ("simple") output, byte for byte: raw keys and values one
// per line, "OK" for puts, the deleted count, SUCCESS/FAILURE for txns, and the
// comma-separated endpoint status line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcdgrpc/kv.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::cli {

struct SimpleOptions {
  // --hex: keys and values as \xNN escapes.
  bool hex = false;
  // get --print-value-only.
  bool value_only = false;
};

[[nodiscard]] std::string SimpleKeyValue(const KeyValue& kv, const SimpleOptions& options);
[[nodiscard]] std::string SimpleGet(const GetResult& result, const SimpleOptions& options);
// get --count-only: the count on one line (etcdctl 3.4 has no --count-only;
// 3.5 prints it only with -w fields).
[[nodiscard]] std::string SimpleCount(const GetResult& result);
[[nodiscard]] std::string SimplePut(const PutResult& result, const SimpleOptions& options);
[[nodiscard]] std::string SimpleDelete(const DeleteResult& result, const SimpleOptions& options);
[[nodiscard]] std::string SimpleTxn(const TxnResult& result, const SimpleOptions& options);

// The columns of `endpoint status` (also used by the table output):
// endpoint, ID, version, db size, is leader, is learner, raft term,
// raft index, raft applied index, errors. `status.endpoint` is printed as is.
[[nodiscard]] std::vector<std::string> EndpointStatusColumns(const EndpointStatus& status);
[[nodiscard]] std::string SimpleEndpointStatus(const std::vector<EndpointStatus>& statuses);

// go-humanize's Bytes(): SI units, e.g. 32768 -> "33 kB", 1500 -> "1.5 kB".
[[nodiscard]] std::string HumanizeBytes(uint64_t bytes);

}  // namespace etcdgrpc::cli
