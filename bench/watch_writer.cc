#include "watch_writer.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::bench {
namespace {

std::string Now() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

}  // namespace

int64_t WrittenAtMicros(const std::string& value) {
  int64_t micros = 0;
  return absl::SimpleAtoi(value, &micros) ? micros : 0;
}

absl::Status RunWriter(const WriterPlan& plan) {
  char go = 0;
  if (read(STDIN_FILENO, &go, 1) != 1) return absl::CancelledError("no go signal on stdin");
  ClientOptions options;
  options.endpoints = plan.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  if (plan.mode == "batched") {
    for (int64_t done = 0; done < plan.count; done += plan.batch) {
      TxnRequest txn;
      for (int64_t i = done; i < std::min(plan.count, done + plan.batch); ++i) {
        txn.Then(Op::Put(absl::StrCat(plan.prefix, i), Now()));
      }
      if (auto r = (*client)->Txn(txn); !r.ok()) return r.status();
    }
  } else if (plan.mode == "single") {
    for (int64_t i = 0; i < plan.count; ++i) {
      if (auto r = (*client)->Put(absl::StrCat(plan.prefix, i), Now()); !r.ok()) return r.status();
    }
  } else if (plan.mode == "keys") {
    for (int64_t round = 0; round < plan.rounds; ++round) {
      for (int64_t key = 0; key < plan.keys; ++key) {
        if (auto r = (*client)->Put(absl::StrCat(plan.prefix, key), Now()); !r.ok()) {
          return r.status();
        }
      }
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown writer mode ", plan.mode));
  }
  return absl::OkStatus();
}

absl::StatusOr<WriterProcess> WriterProcess::Spawn(const std::string& self_path,
                                                   const WriterPlan& plan) {
  absl::StatusOr<PipedProcess> process = PipedProcess::Spawn(
      {self_path, absl::StrCat("--endpoints=", absl::StrJoin(plan.endpoints, ",")),
       absl::StrCat("--writer_mode=", plan.mode), absl::StrCat("--writer_prefix=", plan.prefix),
       absl::StrCat("--writer_count=", plan.count), absl::StrCat("--writer_batch=", plan.batch),
       absl::StrCat("--writer_keys=", plan.keys), absl::StrCat("--writer_rounds=", plan.rounds)},
      "the writer", absl::ZeroDuration());
  if (!process.ok()) return process.status();
  return WriterProcess(*std::move(process));
}

}  // namespace etcdgrpc::bench
