// A distributed lock on etcd (Go's clientv3/concurrency.Mutex), with Go's key
// layout so that it excludes Go's locks and `etcdctl lock` on the same name:
// each session puts "<name>/<lease id in hex>" under its lease; the key with
// the smallest create revision holds the lock; the others wait, in create
// revision order, each for the deletion of the key just ahead of it (a watch
// on the client's shared watch stream, no thread per waiter).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "etcdgrpc/concurrency/session.h"
#include "etcdgrpc/concurrency/wait_options.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/txn.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc::concurrency {

namespace internal {
class Claim;
}  // namespace internal

struct ETCDGRPC_EXPORT MutexOptions {
  // Hears that a held lock was lost (its key deleted, its session's lease
  // lost): once per acquisition, at once, on a client thread, never under a
  // library lock. May be empty. status() says the same. It runs on the
  // client's watch or keep-alive stream thread and must not block: a
  // blocking call there (Unlock, Lock) delays every other watch's events or
  // lease's renewals. It may unlock or destroy this Mutex all the same.
  std::function<void(const absl::Status& why)> on_lost;
};

// Lock, TryLock and Unlock from one thread at a time; the accessors from any.
class ETCDGRPC_EXPORT Mutex {
 public:
  // `name` is the lock's name (etcdctl's <lockname>); keys live under "<name>/".
  Mutex(std::shared_ptr<Session> session, std::string name, MutexOptions options = {});
  // Stops watching the lock; does not unlock: the key stays until Unlock()
  // or the end of the session.
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Waits until this session holds the lock, in create-revision order behind
  // earlier waiters. Holding it already: OK at once. Fails with
  // FAILED_PRECONDITION naming the lease when the session is lost (at once if
  // it already was), DEADLINE_EXCEEDED or CANCELLED (WaitOptions), or etcd's
  // error. On failure the session's key is deleted (as Go does, also a key
  // this call found there); when that delete fails too, the error says so and
  // the next Unlock() or Lock() tries again.
  [[nodiscard]] absl::Status Lock(const WaitOptions& options = {});
  // Takes the lock if nobody holds it, without waiting; ABORTED ("mutex:
  // locked by another session", naming the holder's key) if someone does.
  // Failures clean up as Lock's do.
  [[nodiscard]] absl::Status TryLock();
  // Deletes the key. FAILED_PRECONDITION when not locked. A lock lost while
  // held unlocks fine (its key is already gone).
  [[nodiscard]] absl::Status Unlock();

  // OK while the lock is held; FAILED_PRECONDITION when it is not, or was
  // lost (why: the key deleted, the session's lease lost).
  [[nodiscard]] absl::Status status() const;
  // The key ("<name>/<lease hex>") while held (also once lost), else "".
  [[nodiscard]] std::string key() const;
  // The key's create revision while held (its place in the queue), else 0.
  [[nodiscard]] int64_t revision() const;
  // The header of the answer that granted the lock (ETCD_LOCK_REV in
  // `etcdctl lock` is its revision).
  [[nodiscard]] ResponseHeader header() const;
  // A compare that holds while this mutex holds the lock (Go's IsOwner), to
  // guard a transaction with.
  [[nodiscard]] Compare IsOwner() const;
  // "<name>/".
  [[nodiscard]] const std::string& prefix() const { return prefix_; }

 private:
  struct Attempt;
  // The acquisition's first step (Go's tryAcquire): our key, and the holder's.
  [[nodiscard]] absl::StatusOr<Attempt> Enqueue();
  // Stores the claim, then hears its loss; FAILED_PRECONDITION when it is
  // already lost.
  [[nodiscard]] absl::Status Acquired(std::unique_ptr<internal::Claim> claim,
                                      const ResponseHeader& header);
  // Deletes our key after a failed Lock or TryLock, and returns `error`.
  // When the delete fails too, the key is kept for the next Unlock() or Lock()
  // and the returned error says so.
  [[nodiscard]] absl::Status Withdraw(const std::string& key, const absl::Status& error);

  const std::shared_ptr<Session> session_;
  const std::string name_;
  const std::string prefix_;
  const MutexOptions options_;
  // The held claim, its header, a key whose delete failed; behind the
  // library's own lock (mutex.cc).
  struct Held;
  const std::unique_ptr<Held> held_;
};

}  // namespace etcdgrpc::concurrency
