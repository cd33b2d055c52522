// Converts between the typed KV API and etcd's wire messages, validating what
// the caller gave before anything is sent.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/maintenance.h"
#include "etcdgrpc/txn.h"
#include "etcdserverpb/rpc.pb.h"

namespace etcdgrpc::internal {

[[nodiscard]] absl::Status BuildRangeRequest(const KeyRange& range, const GetOptions& options,
                                             etcdserverpb::RangeRequest* out);
[[nodiscard]] absl::Status BuildPutRequest(std::string_view key, std::string_view value,
                                           const PutOptions& options,
                                           etcdserverpb::PutRequest* out);
[[nodiscard]] absl::Status BuildDeleteRequest(const KeyRange& range, const DeleteOptions& options,
                                              etcdserverpb::DeleteRangeRequest* out);
[[nodiscard]] absl::Status BuildTxnRequest(const TxnRequest& txn, etcdserverpb::TxnRequest* out);
[[nodiscard]] absl::Status BuildCompactionRequest(int64_t revision, const CompactOptions& options,
                                                  etcdserverpb::CompactionRequest* out);

// The parsers move strings out of the response; it is left in a valid but
// unspecified state.
[[nodiscard]] ResponseHeader ParseHeader(const etcdserverpb::ResponseHeader& header);
[[nodiscard]] KeyValue ParseKeyValue(mvccpb::KeyValue& kv);
// The same into an existing KeyValue (an element already in place).
void ParseKeyValueInto(mvccpb::KeyValue& kv, KeyValue& out);
[[nodiscard]] GetResult ParseRangeResponse(etcdserverpb::RangeResponse& response);
[[nodiscard]] PutResult ParsePutResponse(etcdserverpb::PutResponse& response);
[[nodiscard]] DeleteResult ParseDeleteResponse(etcdserverpb::DeleteRangeResponse& response);
[[nodiscard]] TxnResult ParseTxnResponse(etcdserverpb::TxnResponse& response);
[[nodiscard]] EndpointStatus ParseStatusResponse(std::string_view endpoint,
                                                 etcdserverpb::StatusResponse& response);

}  // namespace etcdgrpc::internal
