// Client's KV calls: Range, Put, DeleteRange, Txn and Compact, sync and async.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcdgrpc/client.h"
#include "lib/internal/async_calls.h"
#include "lib/internal/connection.h"
#include "lib/internal/grpc_status.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {
namespace {

using internal::Retry;

// A transaction that only reads can be repeated safely.
bool IsReadOnly(const TxnRequest& txn) {
  auto read_only = [](const std::vector<Op>& ops) {
    for (const Op& op : ops) {
      if (std::holds_alternative<RangeOp>(op.op)) continue;
      if (const auto* nested = std::get_if<TxnRequest>(&op.op); nested && IsReadOnly(*nested)) {
        continue;
      }
      return false;
    }
    return true;
  };
  return read_only(txn.success) && read_only(txn.failure);
}

// etcd's "permission denied" does not name the key: add the call's key or
// range (for a transaction, those it touches).
using KeyRanges = std::vector<std::pair<std::string, std::string>>;

KeyRanges TxnKeyRanges(const etcdserverpb::TxnRequest& txn) {
  KeyRanges ranges;
  for (const auto& compare : txn.compare()) ranges.emplace_back(compare.key(), compare.range_end());
  auto add_ops = [&](const auto& ops) {
    for (const etcdserverpb::RequestOp& op : ops) {
      if (op.has_request_range()) {
        ranges.emplace_back(op.request_range().key(), op.request_range().range_end());
      }
      if (op.has_request_put()) ranges.emplace_back(op.request_put().key(), "");
      if (op.has_request_delete_range()) {
        ranges.emplace_back(op.request_delete_range().key(), op.request_delete_range().range_end());
      }
    }
  };
  add_ops(txn.success());
  add_ops(txn.failure());
  return ranges;
}

absl::Status TxnKeys(absl::Status status, const KeyRanges& ranges) {
  if (!absl::IsPermissionDenied(status)) return status;
  std::vector<std::string> touched;
  for (const auto& [key, range_end] : ranges) {
    std::string text = internal::DescribeKeyRange(key, range_end);
    if (std::find(touched.begin(), touched.end(), text) == touched.end()) {
      touched.push_back(std::move(text));
    }
  }
  absl::Status result(status.code(), absl::StrCat(status.message(), " (txn on ",
                                                  absl::StrJoin(touched, ", "), ")"));
  status.ForEachPayload(
      [&](absl::string_view type, const absl::Cord& payload) { result.SetPayload(type, payload); });
  return result;
}

template <class T>
Callback<T> WithKeyRange(Callback<T> done, std::string key, std::string range_end) {
  return [done = std::move(done), key = std::move(key),
          range_end = std::move(range_end)](absl::StatusOr<T> result) mutable {
    if (!result.ok()) result = internal::WithKeyRange(result.status(), key, range_end);
    std::move(done)(std::move(result));
  };
}

}  // namespace

absl::StatusOr<GetResult> Client::Get(std::string_view key, const GetOptions& options) {
  return Range(KeyRange::Key(std::string(key)), options);
}

absl::StatusOr<GetResult> Client::Range(const KeyRange& range, const GetOptions& options) {
  etcdserverpb::RangeRequest request;
  if (absl::Status s = internal::BuildRangeRequest(range, options, &request); !s.ok()) return s;
  auto response = internal::CallUnary(*connection_, internal::kRangeRpc, request);
  if (!response.ok()) {
    return internal::WithKeyRange(response.status(), request.key(), request.range_end());
  }
  return internal::ParseRangeResponse(*response);
}

absl::StatusOr<PutResult> Client::Put(std::string_view key, std::string_view value,
                                      const PutOptions& options) {
  etcdserverpb::PutRequest request;
  if (absl::Status s = internal::BuildPutRequest(key, value, options, &request); !s.ok()) return s;
  auto response = internal::CallUnary(*connection_, internal::kPutRpc, request);
  if (!response.ok()) return internal::WithKeyRange(response.status(), request.key(), "");
  return internal::ParsePutResponse(*response);
}

absl::StatusOr<DeleteResult> Client::Delete(std::string_view key, const DeleteOptions& options) {
  return DeleteRange(KeyRange::Key(std::string(key)), options);
}

absl::StatusOr<DeleteResult> Client::DeleteRange(const KeyRange& range,
                                                 const DeleteOptions& options) {
  etcdserverpb::DeleteRangeRequest request;
  if (absl::Status s = internal::BuildDeleteRequest(range, options, &request); !s.ok()) return s;
  auto response = internal::CallUnary(*connection_, internal::kDeleteRangeRpc, request);
  if (!response.ok()) {
    return internal::WithKeyRange(response.status(), request.key(), request.range_end());
  }
  return internal::ParseDeleteResponse(*response);
}

absl::StatusOr<TxnResult> Client::Txn(const TxnRequest& txn) {
  etcdserverpb::TxnRequest request;
  if (absl::Status s = internal::BuildTxnRequest(txn, &request); !s.ok()) return s;
  auto response = internal::CallUnary(*connection_, internal::kTxnRpc, request,
                                      {.retry = IsReadOnly(txn) ? Retry::kSafe : Retry::kWrite});
  if (!response.ok()) return TxnKeys(response.status(), TxnKeyRanges(request));
  return internal::ParseTxnResponse(*response);
}

absl::StatusOr<ResponseHeader> Client::Compact(int64_t revision, const CompactOptions& options) {
  etcdserverpb::CompactionRequest request;
  if (absl::Status s = internal::BuildCompactionRequest(revision, options, &request); !s.ok()) {
    return s;
  }
  auto response = internal::CallUnary(*connection_, internal::kCompactRpc, request);
  if (!response.ok()) return response.status();
  return internal::ParseHeader(response->header());
}

// --- asynchronous -----------------------------------------------------------

void Client::GetAsync(std::string_view key, const GetOptions& options, Callback<GetResult> done) {
  RangeAsync(KeyRange::Key(std::string(key)), options, std::move(done));
}

void Client::RangeAsync(const KeyRange& range, const GetOptions& options,
                        Callback<GetResult> done) {
  etcdserverpb::RangeRequest request;
  if (absl::Status s = internal::BuildRangeRequest(range, options, &request); !s.ok()) {
    return std::move(done)(s);
  }
  auto with_key = WithKeyRange(std::move(done), request.key(), request.range_end());
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kRangeRpc, std::move(request),
                           internal::ParseRangeResponse, std::move(with_key));
}

void Client::PutAsync(std::string_view key, std::string_view value, const PutOptions& options,
                      Callback<PutResult> done) {
  etcdserverpb::PutRequest request;
  if (absl::Status s = internal::BuildPutRequest(key, value, options, &request); !s.ok()) {
    return std::move(done)(s);
  }
  auto with_key = WithKeyRange(std::move(done), request.key(), "");
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kPutRpc, std::move(request),
                           internal::ParsePutResponse, std::move(with_key));
}

void Client::DeleteRangeAsync(const KeyRange& range, const DeleteOptions& options,
                              Callback<DeleteResult> done) {
  etcdserverpb::DeleteRangeRequest request;
  if (absl::Status s = internal::BuildDeleteRequest(range, options, &request); !s.ok()) {
    return std::move(done)(s);
  }
  auto with_key = WithKeyRange(std::move(done), request.key(), request.range_end());
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kDeleteRangeRpc,
                           std::move(request), internal::ParseDeleteResponse, std::move(with_key));
}

void Client::TxnAsync(const TxnRequest& txn, Callback<TxnResult> done) {
  etcdserverpb::TxnRequest request;
  if (absl::Status s = internal::BuildTxnRequest(txn, &request); !s.ok()) {
    return std::move(done)(s);
  }
  KeyRanges ranges = TxnKeyRanges(request);
  const bool read_only = IsReadOnly(txn);
  internal::CallUnaryAsync(*connection_, *async_calls_, internal::kTxnRpc, std::move(request),
                           internal::ParseTxnResponse,
                           [done = std::move(done),
                            ranges = std::move(ranges)](absl::StatusOr<TxnResult> result) mutable {
                             if (!result.ok()) result = TxnKeys(result.status(), ranges);
                             std::move(done)(std::move(result));
                           },
                           {.retry = read_only ? Retry::kSafe : Retry::kWrite});
}

void Client::CompactAsync(int64_t revision, const CompactOptions& options,
                          Callback<ResponseHeader> done) {
  etcdserverpb::CompactionRequest request;
  if (absl::Status s = internal::BuildCompactionRequest(revision, options, &request); !s.ok()) {
    return std::move(done)(s);
  }
  internal::CallUnaryAsync(
      *connection_, *async_calls_, internal::kCompactRpc, std::move(request),
      [](etcdserverpb::CompactionResponse& response) {
        return internal::ParseHeader(response.header());
      },
      std::move(done));
}

}  // namespace etcdgrpc
