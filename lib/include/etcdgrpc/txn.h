// Typed etcd transactions: compares, then/else operations and their results,
// with a small builder:
//   TxnRequest txn;
//   txn.If(Compare::CreateRevision("k").Equal(0)).Then(Op::Put("k", "v")).Else(Op::Get("k"));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "etcdgrpc/export.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

enum class CompareTarget { kVersion, kCreateRevision, kModRevision, kValue, kLease };
enum class CompareResult { kEqual, kGreater, kLess, kNotEqual };

struct Compare;

// Builds a Compare on a numeric target (version, revisions, lease).
class ETCDGRPC_EXPORT NumericCompare {
 public:
  NumericCompare(CompareTarget target, KeyRange range)
      : target_(target), range_(std::move(range)) {}
  [[nodiscard]] Compare Equal(int64_t operand) const;
  [[nodiscard]] Compare NotEqual(int64_t operand) const;
  [[nodiscard]] Compare Greater(int64_t operand) const;
  [[nodiscard]] Compare Less(int64_t operand) const;

 private:
  [[nodiscard]] Compare Make(CompareResult result, int64_t operand) const;
  CompareTarget target_;
  KeyRange range_;
};

// Builds a Compare on the value (compared as bytes).
class ETCDGRPC_EXPORT ValueCompare {
 public:
  explicit ValueCompare(KeyRange range) : range_(std::move(range)) {}
  [[nodiscard]] Compare Equal(std::string operand) const;
  [[nodiscard]] Compare NotEqual(std::string operand) const;
  [[nodiscard]] Compare Greater(std::string operand) const;
  [[nodiscard]] Compare Less(std::string operand) const;

 private:
  [[nodiscard]] Compare Make(CompareResult result, std::string operand) const;
  KeyRange range_;
};

// One condition of a transaction: `target(range) result operand`.
struct ETCDGRPC_EXPORT Compare {
  // Version 0 and CreateRevision 0 both mean "the key does not exist".
  [[nodiscard]] static NumericCompare Version(std::string key);
  [[nodiscard]] static NumericCompare Version(KeyRange range);
  [[nodiscard]] static NumericCompare CreateRevision(std::string key);
  [[nodiscard]] static NumericCompare CreateRevision(KeyRange range);
  [[nodiscard]] static NumericCompare ModRevision(std::string key);
  [[nodiscard]] static NumericCompare ModRevision(KeyRange range);
  [[nodiscard]] static NumericCompare Lease(std::string key);
  [[nodiscard]] static NumericCompare Lease(KeyRange range);
  [[nodiscard]] static ValueCompare Value(std::string key);
  [[nodiscard]] static ValueCompare Value(KeyRange range);

  CompareTarget target;
  CompareResult result;
  KeyRange range;
  // The operand: `number` for numeric targets, `value` for kValue.
  int64_t number = 0;
  std::string value;
};

struct Op;

// A transaction: if every compare holds, run `success`, else `failure`.
struct ETCDGRPC_EXPORT TxnRequest {
  std::vector<Compare> compares;
  std::vector<Op> success;
  std::vector<Op> failure;

  TxnRequest& If(Compare compare);
  TxnRequest& Then(Op op);
  TxnRequest& Else(Op op);
};

struct ETCDGRPC_EXPORT RangeOp {
  KeyRange range;
  GetOptions options;
};
struct ETCDGRPC_EXPORT PutOp {
  std::string key;
  std::string value;
  PutOptions options;
};
struct ETCDGRPC_EXPORT DeleteOp {
  KeyRange range;
  DeleteOptions options;
};

// One operation inside a transaction.
struct ETCDGRPC_EXPORT Op {
  [[nodiscard]] static Op Get(std::string key, GetOptions options = {});
  [[nodiscard]] static Op Range(KeyRange range, GetOptions options = {});
  [[nodiscard]] static Op Put(std::string key, std::string value, PutOptions options = {});
  [[nodiscard]] static Op Delete(std::string key, DeleteOptions options = {});
  [[nodiscard]] static Op DeleteRange(KeyRange range, DeleteOptions options = {});
  [[nodiscard]] static Op Txn(TxnRequest txn);

  std::variant<RangeOp, PutOp, DeleteOp, TxnRequest> op;
};

struct OpResult;

struct ETCDGRPC_EXPORT TxnResult {
  ResponseHeader header;
  // True when every compare held (the `success` branch ran).
  bool succeeded = false;
  // One result per operation of the branch that ran, in order.
  std::vector<OpResult> results;
};

struct ETCDGRPC_EXPORT OpResult {
  std::variant<GetResult, PutResult, DeleteResult, TxnResult> result;

  const GetResult* get() const { return std::get_if<GetResult>(&result); }
  const PutResult* put() const { return std::get_if<PutResult>(&result); }
  const DeleteResult* del() const { return std::get_if<DeleteResult>(&result); }
  const TxnResult* txn() const { return std::get_if<TxnResult>(&result); }
};

}  // namespace etcdgrpc
