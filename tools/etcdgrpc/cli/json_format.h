// etcdctl's -w json output: Go's encoding/json of the etcd responses, i.e.
// proto field names, zero fields omitted, 64-bit ids as plain numbers, keys
// and values in base64, one line per response.
#pragma once

#include <string>
#include <vector>

#include "etcdgrpc/kv.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"

namespace etcdgrpc::cli {

// Each returns one line, newline included.
[[nodiscard]] std::string JsonGet(const GetResult& result);
[[nodiscard]] std::string JsonPut(const PutResult& result);
[[nodiscard]] std::string JsonDelete(const DeleteResult& result);
[[nodiscard]] std::string JsonTxn(const TxnResult& result);
// [{"Endpoint": ..., "Status": {...}}, ...] with `status.endpoint` as given.
[[nodiscard]] std::string JsonEndpointStatus(const std::vector<EndpointStatus>& statuses);

}  // namespace etcdgrpc::cli
