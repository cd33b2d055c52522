// A key of ours under a lock's or an election's prefix (<prefix><lease in hex>,
// Go's layout), from the moment it is written until it is given up: waits for
// the keys created before it to go (Go's waitDeletes) with one watch at a time
// on the client's shared watch stream, and meanwhile, and while it is held,
// hears at once when the key is deleted or the session is lost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/concurrency/session.h"
#include "etcdgrpc/concurrency/wait_options.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::concurrency::internal {

class ClaimState;

using ClaimLostCallback = std::function<void(const absl::Status& why)>;

class Claim {
 public:
  // Watches `key` (ours: created at `create_revision` with the session's
  // lease) from `watch_from` on, and the session's loss.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Claim>> Start(
      std::shared_ptr<Session> session, std::string key, int64_t create_revision,
      int64_t watch_from);
  // Stop().
  ~Claim();
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Waits until no key under `prefix` created before ours is left: reads the
  // newest such key and waits for its deletion, again and again (Go's
  // waitDeletes; a waiter wakes only when the key just ahead of it goes, not
  // on every change under the prefix). The header of the read that found none
  // (it also found our key still there). Fails with the loss
  // (FAILED_PRECONDITION), DEADLINE_EXCEEDED, CANCELLED or etcd's error.
  [[nodiscard]] absl::StatusOr<ResponseHeader> WaitForPredecessors(const std::string& prefix,
                                                                   const WaitOptions& options);

  // From now on a loss is also reported to `on_lost` (once, on a client
  // thread, never under a lock); a loss already known is reported now.
  void Hold(ClaimLostCallback on_lost);
  // OK while our key and the session live; the loss otherwise.
  [[nodiscard]] absl::Status lost() const;
  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] int64_t create_revision() const { return create_revision_; }

  // Stops watching; waits for a callback in progress unless called from it.
  // No callback starts afterwards.
  void Stop();

 private:
  Claim(std::shared_ptr<Session> session, std::string key, int64_t create_revision);

  const std::shared_ptr<Session> session_;
  const std::string key_;
  const int64_t create_revision_;
  std::shared_ptr<ClaimState> state_;
  SessionSubscription session_subscription_;
};

}  // namespace etcdgrpc::concurrency::internal
