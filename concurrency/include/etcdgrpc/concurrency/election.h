// Leader election on etcd (Go's clientv3/concurrency.Election), with Go's key
// layout so that it runs against Go's elections and `etcdctl elect` on the
// same name: each candidate puts "<name>/<lease id in hex>" = its value under
// its session's lease; the key with the smallest create revision is the
// leader; the others wait in create-revision order (one watch each on the
// client's shared watch stream). Observe() follows the leader with watches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdgrpc/concurrency/session.h"
#include "etcdgrpc/concurrency/wait_options.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::concurrency {

namespace internal {
class Claim;
class Observer;
}  // namespace internal

// The leader's key and value, and the header of the answer that showed it.
struct ETCDGRPC_EXPORT LeaderInfo {
  ResponseHeader header;
  KeyValue kv;
};

// Hears an election's leaders. Calls never overlap and come in order; OnEnd
// is the last. They run on client threads (the first one may run inside
// Observe()), never under a library lock.
class ETCDGRPC_EXPORT ElectionListener {
 public:
  virtual ~ElectionListener() = default;
  // A leader, or the leader's new value (Proclaim). Like Go's Observe, not
  // every value in between is guaranteed, but the newest always is.
  virtual void OnLeader(const LeaderInfo& leader) = 0;
  // Observing ended on its own (the client closed, etcd cancelled a watch,
  // a read failed); not called after Cancel().
  virtual void OnEnd(const absl::Status& /*why*/) {}
};

// A running Observe(); dropping it (or Cancel()) stops it and waits for a
// listener call in progress unless called from it.
class ETCDGRPC_EXPORT ElectionObservation {
 public:
  ElectionObservation() = default;
  ElectionObservation(ElectionObservation&&) noexcept;
  ElectionObservation& operator=(ElectionObservation&&) noexcept;
  ~ElectionObservation();
  void Cancel();
  [[nodiscard]] bool valid() const { return observer_ != nullptr; }

  // Made by Election::Observe.
  explicit ElectionObservation(std::shared_ptr<internal::Observer> observer);

 private:
  std::shared_ptr<internal::Observer> observer_;
};

struct ETCDGRPC_EXPORT ElectionOptions {
  // Hears that leadership was lost (the key deleted, the session's lease
  // lost): once per campaign won, at once, on a client thread, never under a
  // library lock. May be empty. status() says the same. It runs on the
  // client's watch or keep-alive stream thread and must not block: a
  // blocking call there (Resign, Campaign) delays every other watch's events
  // or lease's renewals. It may resign or destroy this Election all the same.
  std::function<void(const absl::Status& why)> on_lost;
};

// Campaign, Proclaim and Resign from one thread at a time; the rest from any.
class ETCDGRPC_EXPORT Election {
 public:
  // `name` is the election's name (etcdctl's <election-name>); keys live
  // under "<name>/".
  Election(std::shared_ptr<Session> session, std::string name, ElectionOptions options = {});
  // Stops watching; does not resign (the key stays until Resign() or the end
  // of the session).
  ~Election();
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

  // Puts `value` as this session's candidacy and waits until it leads. Fails
  // with FAILED_PRECONDITION naming the lease when the session is lost (at
  // once if it already was), DEADLINE_EXCEEDED or CANCELLED (WaitOptions), or
  // etcd's error; on failure the candidacy is withdrawn.
  [[nodiscard]] absl::Status Campaign(const std::string& value, const WaitOptions& options = {});
  // The leader announces a new value. FAILED_PRECONDITION "election: not
  // leader" when this session does not lead (any more).
  [[nodiscard]] absl::Status Proclaim(const std::string& value);
  // Gives up leadership (deletes the key if still ours). OK when not leading.
  // When the delete fails, the key is kept and the next Resign() (or
  // Campaign()) tries again; so does a candidacy a failed Campaign() could not
  // withdraw.
  [[nodiscard]] absl::Status Resign();

  // The current leader; NOT_FOUND "election: no leader" when there is none.
  [[nodiscard]] absl::StatusOr<LeaderInfo> Leader() const;
  // Follows the leaders: `listener` (not null, outliving the handle) hears
  // the current one, each new one, and each new value.
  [[nodiscard]] absl::StatusOr<ElectionObservation> Observe(ElectionListener* listener) const;

  // OK while leading; FAILED_PRECONDITION when not, or when leadership was
  // lost (why).
  [[nodiscard]] absl::Status status() const;
  // Our key while leading (also once lost), else "".
  [[nodiscard]] std::string key() const;
  // Our key's create revision while leading, else 0.
  [[nodiscard]] int64_t revision() const;
  // The header of the last successful Campaign or Proclaim.
  [[nodiscard]] ResponseHeader header() const;
  // "<name>/".
  [[nodiscard]] const std::string& prefix() const { return prefix_; }

 private:
  // Deletes our key (if created at `revision`; 0: whenever) after a failed
  // Campaign, and returns `error`; when the delete fails too, keeps the key
  // for the next Resign() or Campaign() and the returned error says so.
  [[nodiscard]] absl::Status Withdraw(const std::string& key, int64_t revision,
                                      const absl::Status& error);
  // The delete of Resign() and Withdraw(): OK, or why it failed.
  [[nodiscard]] absl::StatusOr<TxnResult> DeleteKey(const std::string& key, int64_t revision);

  const std::shared_ptr<Session> session_;
  const std::string name_;
  const std::string prefix_;
  const ElectionOptions options_;
  // The claim held while leading and the last header, behind the library's
  // own lock (election.cc).
  struct Held;
  const std::unique_ptr<Held> held_;
};

}  // namespace etcdgrpc::concurrency
