#include "etcdgrpc/txn.h"

#include <utility>

namespace etcdgrpc {

Compare NumericCompare::Make(CompareResult result, int64_t operand) const {
  return Compare{
      .target = target_, .result = result, .range = range_, .number = operand, .value = {}};
}
Compare NumericCompare::Equal(int64_t operand) const {
  return Make(CompareResult::kEqual, operand);
}
Compare NumericCompare::NotEqual(int64_t operand) const {
  return Make(CompareResult::kNotEqual, operand);
}
Compare NumericCompare::Greater(int64_t operand) const {
  return Make(CompareResult::kGreater, operand);
}
Compare NumericCompare::Less(int64_t operand) const { return Make(CompareResult::kLess, operand); }

Compare ValueCompare::Make(CompareResult result, std::string operand) const {
  return Compare{.target = CompareTarget::kValue,
                 .result = result,
                 .range = range_,
                 .number = 0,
                 .value = std::move(operand)};
}
Compare ValueCompare::Equal(std::string operand) const {
  return Make(CompareResult::kEqual, std::move(operand));
}
Compare ValueCompare::NotEqual(std::string operand) const {
  return Make(CompareResult::kNotEqual, std::move(operand));
}
Compare ValueCompare::Greater(std::string operand) const {
  return Make(CompareResult::kGreater, std::move(operand));
}
Compare ValueCompare::Less(std::string operand) const {
  return Make(CompareResult::kLess, std::move(operand));
}

NumericCompare Compare::Version(std::string key) { return Version(KeyRange::Key(std::move(key))); }
NumericCompare Compare::Version(KeyRange range) {
  return NumericCompare(CompareTarget::kVersion, std::move(range));
}
NumericCompare Compare::CreateRevision(std::string key) {
  return CreateRevision(KeyRange::Key(std::move(key)));
}
NumericCompare Compare::CreateRevision(KeyRange range) {
  return NumericCompare(CompareTarget::kCreateRevision, std::move(range));
}
NumericCompare Compare::ModRevision(std::string key) {
  return ModRevision(KeyRange::Key(std::move(key)));
}
NumericCompare Compare::ModRevision(KeyRange range) {
  return NumericCompare(CompareTarget::kModRevision, std::move(range));
}
NumericCompare Compare::Lease(std::string key) { return Lease(KeyRange::Key(std::move(key))); }
NumericCompare Compare::Lease(KeyRange range) {
  return NumericCompare(CompareTarget::kLease, std::move(range));
}
ValueCompare Compare::Value(std::string key) { return Value(KeyRange::Key(std::move(key))); }
ValueCompare Compare::Value(KeyRange range) { return ValueCompare(std::move(range)); }

TxnRequest& TxnRequest::If(Compare compare) {
  compares.push_back(std::move(compare));
  return *this;
}
TxnRequest& TxnRequest::Then(Op op) {
  success.push_back(std::move(op));
  return *this;
}
TxnRequest& TxnRequest::Else(Op op) {
  failure.push_back(std::move(op));
  return *this;
}

Op Op::Get(std::string key, GetOptions options) {
  return Range(KeyRange::Key(std::move(key)), options);
}
Op Op::Range(KeyRange range, GetOptions options) { return Op{RangeOp{std::move(range), options}}; }
Op Op::Put(std::string key, std::string value, PutOptions options) {
  return Op{PutOp{std::move(key), std::move(value), options}};
}
Op Op::Delete(std::string key, DeleteOptions options) {
  return DeleteRange(KeyRange::Key(std::move(key)), options);
}
Op Op::DeleteRange(KeyRange range, DeleteOptions options) {
  return Op{DeleteOp{std::move(range), options}};
}
Op Op::Txn(TxnRequest txn) { return Op{std::move(txn)}; }

}  // namespace etcdgrpc
