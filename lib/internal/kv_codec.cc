#include "lib/internal/kv_codec.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::internal {
namespace {

absl::Status CheckKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  return absl::OkStatus();
}

absl::Status CheckRevision(int64_t revision, const char* what) {
  if (revision < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must not be negative, got ", revision));
  }
  return absl::OkStatus();
}

etcdserverpb::RangeRequest::SortOrder ToProto(SortOrder order) {
  switch (order) {
    case SortOrder::kNone:
      return etcdserverpb::RangeRequest::NONE;
    case SortOrder::kAscend:
      return etcdserverpb::RangeRequest::ASCEND;
    case SortOrder::kDescend:
      return etcdserverpb::RangeRequest::DESCEND;
  }
  return etcdserverpb::RangeRequest::NONE;
}

etcdserverpb::RangeRequest::SortTarget ToProto(SortTarget target) {
  switch (target) {
    case SortTarget::kKey:
      return etcdserverpb::RangeRequest::KEY;
    case SortTarget::kVersion:
      return etcdserverpb::RangeRequest::VERSION;
    case SortTarget::kCreate:
      return etcdserverpb::RangeRequest::CREATE;
    case SortTarget::kMod:
      return etcdserverpb::RangeRequest::MOD;
    case SortTarget::kValue:
      return etcdserverpb::RangeRequest::VALUE;
  }
  return etcdserverpb::RangeRequest::KEY;
}

etcdserverpb::Compare::CompareResult ToProto(CompareResult result) {
  switch (result) {
    case CompareResult::kEqual:
      return etcdserverpb::Compare::EQUAL;
    case CompareResult::kGreater:
      return etcdserverpb::Compare::GREATER;
    case CompareResult::kLess:
      return etcdserverpb::Compare::LESS;
    case CompareResult::kNotEqual:
      return etcdserverpb::Compare::NOT_EQUAL;
  }
  return etcdserverpb::Compare::EQUAL;
}

absl::Status BuildCompare(const Compare& compare, etcdserverpb::Compare* out) {
  if (absl::Status s = compare.range.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("txn compare: ", s.message()));
  }
  out->set_key(compare.range.key());
  out->set_range_end(compare.range.range_end());
  out->set_result(ToProto(compare.result));
  switch (compare.target) {
    case CompareTarget::kVersion:
      out->set_target(etcdserverpb::Compare::VERSION);
      out->set_version(compare.number);
      break;
    case CompareTarget::kCreateRevision:
      out->set_target(etcdserverpb::Compare::CREATE);
      out->set_create_revision(compare.number);
      break;
    case CompareTarget::kModRevision:
      out->set_target(etcdserverpb::Compare::MOD);
      out->set_mod_revision(compare.number);
      break;
    case CompareTarget::kValue:
      out->set_target(etcdserverpb::Compare::VALUE);
      out->set_value(compare.value);
      break;
    case CompareTarget::kLease:
      out->set_target(etcdserverpb::Compare::LEASE);
      out->set_lease(compare.number);
      break;
  }
  return absl::OkStatus();
}

absl::Status BuildRequestOp(const Op& op, etcdserverpb::RequestOp* out) {
  struct Visitor {
    etcdserverpb::RequestOp* out;
    absl::Status operator()(const RangeOp& get) const {
      return BuildRangeRequest(get.range, get.options, out->mutable_request_range());
    }
    absl::Status operator()(const PutOp& put) const {
      return BuildPutRequest(put.key, put.value, put.options, out->mutable_request_put());
    }
    absl::Status operator()(const DeleteOp& del) const {
      return BuildDeleteRequest(del.range, del.options, out->mutable_request_delete_range());
    }
    absl::Status operator()(const TxnRequest& txn) const {
      return BuildTxnRequest(txn, out->mutable_request_txn());
    }
  };
  return std::visit(Visitor{out}, op.op);
}

}  // namespace

absl::Status BuildRangeRequest(const KeyRange& range, const GetOptions& options,
                               etcdserverpb::RangeRequest* out) {
  if (absl::Status s = range.Validate(); !s.ok()) return s;
  if (options.limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must not be negative, got ", options.limit));
  }
  const std::pair<int64_t, const char*> revisions[] = {
      {options.revision, "revision"},
      {options.min_mod_revision, "min_mod_revision"},
      {options.max_mod_revision, "max_mod_revision"},
      {options.min_create_revision, "min_create_revision"},
      {options.max_create_revision, "max_create_revision"}};
  for (const auto& [value, name] : revisions) {
    if (absl::Status s = CheckRevision(value, name); !s.ok()) return s;
  }
  out->set_key(range.key());
  out->set_range_end(range.range_end());
  out->set_limit(options.limit);
  out->set_revision(options.revision);
  out->set_sort_order(ToProto(options.sort_order));
  out->set_sort_target(ToProto(options.sort_target));
  out->set_serializable(options.serializable);
  out->set_keys_only(options.keys_only);
  out->set_count_only(options.count_only);
  out->set_min_mod_revision(options.min_mod_revision);
  out->set_max_mod_revision(options.max_mod_revision);
  out->set_min_create_revision(options.min_create_revision);
  out->set_max_create_revision(options.max_create_revision);
  return absl::OkStatus();
}

absl::Status BuildPutRequest(std::string_view key, std::string_view value,
                             const PutOptions& options, etcdserverpb::PutRequest* out) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (options.lease < 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid lease id ", options.lease));
  }
  out->set_key(key.data(), key.size());
  out->set_value(value.data(), value.size());
  out->set_lease(options.lease);
  out->set_prev_kv(options.prev_kv);
  out->set_ignore_value(options.ignore_value);
  out->set_ignore_lease(options.ignore_lease);
  return absl::OkStatus();
}

absl::Status BuildDeleteRequest(const KeyRange& range, const DeleteOptions& options,
                                etcdserverpb::DeleteRangeRequest* out) {
  if (absl::Status s = range.Validate(); !s.ok()) return s;
  out->set_key(range.key());
  out->set_range_end(range.range_end());
  out->set_prev_kv(options.prev_kv);
  return absl::OkStatus();
}

absl::Status BuildTxnRequest(const TxnRequest& txn, etcdserverpb::TxnRequest* out) {
  for (const Compare& compare : txn.compares) {
    if (absl::Status s = BuildCompare(compare, out->add_compare()); !s.ok()) return s;
  }
  for (const Op& op : txn.success) {
    if (absl::Status s = BuildRequestOp(op, out->add_success()); !s.ok()) return s;
  }
  for (const Op& op : txn.failure) {
    if (absl::Status s = BuildRequestOp(op, out->add_failure()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status BuildCompactionRequest(int64_t revision, const CompactOptions& options,
                                    etcdserverpb::CompactionRequest* out) {
  if (revision <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("compaction revision must be positive, got ", revision));
  }
  out->set_revision(revision);
  out->set_physical(options.physical);
  return absl::OkStatus();
}

ResponseHeader ParseHeader(const etcdserverpb::ResponseHeader& header) {
  return ResponseHeader{.cluster_id = header.cluster_id(),
                        .member_id = header.member_id(),
                        .revision = header.revision(),
                        .raft_term = header.raft_term()};
}

KeyValue ParseKeyValue(mvccpb::KeyValue& kv) {
  KeyValue out;
  ParseKeyValueInto(kv, out);
  return out;
}

void ParseKeyValueInto(mvccpb::KeyValue& kv, KeyValue& out) {
  out.key = std::move(*kv.mutable_key());
  out.value = std::move(*kv.mutable_value());
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
}

GetResult ParseRangeResponse(etcdserverpb::RangeResponse& response) {
  GetResult result;
  result.header = ParseHeader(response.header());
  result.kvs.reserve(response.kvs_size());
  for (mvccpb::KeyValue& kv : *response.mutable_kvs())
    ParseKeyValueInto(kv, result.kvs.emplace_back());
  result.more = response.more();
  result.count = response.count();
  return result;
}

PutResult ParsePutResponse(etcdserverpb::PutResponse& response) {
  PutResult result;
  result.header = ParseHeader(response.header());
  if (response.has_prev_kv()) result.prev_kv = ParseKeyValue(*response.mutable_prev_kv());
  return result;
}

DeleteResult ParseDeleteResponse(etcdserverpb::DeleteRangeResponse& response) {
  DeleteResult result;
  result.header = ParseHeader(response.header());
  result.deleted = response.deleted();
  result.prev_kvs.reserve(response.prev_kvs_size());
  for (mvccpb::KeyValue& kv : *response.mutable_prev_kvs()) {
    result.prev_kvs.push_back(ParseKeyValue(kv));
  }
  return result;
}

TxnResult ParseTxnResponse(etcdserverpb::TxnResponse& response) {
  TxnResult result;
  result.header = ParseHeader(response.header());
  result.succeeded = response.succeeded();
  result.results.reserve(response.responses_size());
  for (etcdserverpb::ResponseOp& op : *response.mutable_responses()) {
    switch (op.response_case()) {
      case etcdserverpb::ResponseOp::kResponseRange:
        result.results.push_back(OpResult{ParseRangeResponse(*op.mutable_response_range())});
        break;
      case etcdserverpb::ResponseOp::kResponsePut:
        result.results.push_back(OpResult{ParsePutResponse(*op.mutable_response_put())});
        break;
      case etcdserverpb::ResponseOp::kResponseDeleteRange:
        result.results.push_back(
            OpResult{ParseDeleteResponse(*op.mutable_response_delete_range())});
        break;
      case etcdserverpb::ResponseOp::kResponseTxn:
        result.results.push_back(OpResult{ParseTxnResponse(*op.mutable_response_txn())});
        break;
      case etcdserverpb::ResponseOp::RESPONSE_NOT_SET:
        // An empty op still takes its place so results line up with the ops.
        result.results.push_back(OpResult{GetResult{}});
        break;
    }
  }
  return result;
}

EndpointStatus ParseStatusResponse(std::string_view endpoint,
                                   etcdserverpb::StatusResponse& response) {
  EndpointStatus status;
  status.endpoint = std::string(endpoint);
  status.header = ParseHeader(response.header());
  status.version = std::move(*response.mutable_version());
  status.db_size = response.dbsize();
  status.db_size_in_use = response.dbsizeinuse();
  status.leader = response.leader();
  status.raft_index = response.raftindex();
  status.raft_term = response.raftterm();
  status.raft_applied_index = response.raftappliedindex();
  status.is_learner = response.islearner();
  for (std::string& error : *response.mutable_errors()) status.errors.push_back(std::move(error));
  return status;
}

}  // namespace etcdgrpc::internal
