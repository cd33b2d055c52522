// Small helpers shared by the files of RegistrationCore (the state machine,
// the attempts, deregistering): reading a guarded Txn's answer, wording errors.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"
#include "registry/internal/text.h"

namespace etcdgrpc::registry::internal {

class RegistrationCore;

// The key-value the Else(Get(key)) branch of a failed Txn read; null when
// the key is absent.
inline const KeyValue* HolderKv(const TxnResult& result) {
  for (const OpResult& op : result.results) {
    if (const GetResult* get = op.get(); get != nullptr && !get->kvs.empty()) {
      return &get->kvs.front();
    }
  }
  return nullptr;
}

inline int64_t HolderOf(const TxnResult& result) {
  const KeyValue* kv = HolderKv(result);
  return kv != nullptr ? kv->lease : 0;
}

// Takes a callback's reference to its registration out of the callback, so
// that it dies before the callback returns. The client frees a call's state
// (the callback with its captures) on gRPC's callback thread only after
// letting ~Client go on, and a registration's last reference can hold the
// last one to the client's core and so to its channels: a grpc::Channel
// destroyed on one of gRPC 1.51's callback threads can delete the
// process-wide callback queue under that very thread, which then polls freed
// memory (SIGSEGV in grpc_completion_queue_next).
inline std::shared_ptr<RegistrationCore> ReleaseInBody(
    std::shared_ptr<RegistrationCore>& captured) {
  return std::move(captured);
}

inline absl::Status WithContext(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), absl::StrCat(ToAbsl(what), ": ", status.message()));
}

// Revoking answered this: the lease no longer holds anything.
inline bool RevokeConfirmed(const absl::Status& status) {
  return status.ok() || IsLeaseNotFound(status) || status.code() == absl::StatusCode::kNotFound;
}

}  // namespace etcdgrpc::registry::internal
