// The flags and arguments of `get`, `put` and `del`, shared by those commands
// and by the operations of `txn` (etcdctl parses both with the same
// definitions), and their translation into typed requests with etcdctl's
// checks, messages and exit codes.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "etcdgrpc/kv.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::cli {

// Numbers are kept as text so that bad values get etcdctl's (Go's) messages.
struct GetFlags {
  std::vector<std::string> args;
  std::string consistency = "l";
  std::string order;
  std::string sort_by;
  std::string limit = "0";
  std::string rev = "0";
  bool prefix = false;
  bool from_key = false;
  bool keys_only = false;
  bool count_only = false;
  bool print_value_only = false;
};

struct PutFlags {
  std::vector<std::string> args;
  std::string lease = "0";
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DelFlags {
  std::vector<std::string> args;
  bool prefix = false;
  bool from_key = false;
  bool prev_kv = false;
};

// Declares the flags and positional arguments on the command's CLI11 app.
void AddGetFlags(CLI::App& app, GetFlags* flags);
void AddPutFlags(CLI::App& app, PutFlags* flags);
void AddDelFlags(CLI::App& app, DelFlags* flags);

struct GetPlan {
  KeyRange range = KeyRange::All();
  GetOptions options;
  bool print_value_only = false;
};

struct PutPlan {
  std::string key;
  std::string value;
  PutOptions options;
};

struct DeletePlan {
  KeyRange range = KeyRange::All();
  DeleteOptions options;
};

// Check the arguments as etcdctl's getGetOp/getPutOp/getDelOp do, in the same
// order, with the same messages and exit codes. `value_input` supplies put's value
// when only the key is given; nullptr means there is no such input (txn).
[[nodiscard]] absl::StatusOr<GetPlan> MakeGetPlan(const GetFlags& flags);
[[nodiscard]] absl::StatusOr<PutPlan> MakePutPlan(const PutFlags& flags, std::istream* value_input);
[[nodiscard]] absl::StatusOr<DeletePlan> MakeDeletePlan(const DelFlags& flags);

// A range whose end is not after its key: etcd answers it with nothing, but
// the client library refuses to send it, so the commands answer it themselves.
[[nodiscard]] bool IsEmptyRange(const KeyRange& range);

}  // namespace etcdgrpc::cli
