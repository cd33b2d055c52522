// The client's lease keeper: keeps any number of leases alive over one
// LeaseKeepAlive stream (one reader thread) with one timer thread for all of
// them. Per kept lease: a deadline and at most one renewal per interval
// (TTL x renew_fraction); renewals due in the same tick are written as one
// burst. KeepAliveOnce calls share the stream, matched to responses by lease
// id and order. See DESIGN.md, "Lease keep-alive".
#pragma once

#include <cstdint>
#include <deque>
#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "internal/mutex.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/lease.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "internal/bidi_stream.h"
#include "internal/serial_executor.h"

namespace etcdgrpc::internal {

// One KeptLease handle: its listener and the executor that serializes calls.
struct LeaseHolder {
  LeaseHolder(LeaseListener* listener, int64_t lease_id) : listener(listener), lease_id(lease_id) {}
  LeaseListener* const listener;
  const int64_t lease_id;
  SerialExecutor executor;
};

class LeaseKeeper
    : public BidiStream<etcdserverpb::LeaseKeepAliveRequest,
                        etcdserverpb::LeaseKeepAliveResponse>::Handler,
      public Timer::Slot {
 public:
  using Stream =
      BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;

  LeaseKeeper(Connection& connection, Timer& timer, const ClientOptions& options);
  ~LeaseKeeper() override;

  // The client is closing (its timer already stopped): stops the stream; kept
  // leases hear kClientClosed, KeepAliveOnce calls in flight complete with
  // CANCELLED.
  void Shutdown();

  [[nodiscard]] std::shared_ptr<LeaseHolder> Keep(int64_t lease_id, LeaseListener* listener,
                                                  const KeepOptions& options);
  // Stops one handle's renewals (KeptLease::Stop).
  void Unkeep(const std::shared_ptr<LeaseHolder>& holder);
  // One renewal on the shared stream; `done` runs on the stream or timer
  // thread (or here, on immediate failure).
  void KeepAliveOnce(int64_t lease_id, Callback<LeaseKeepAliveResult> done);
  // This client revoked the lease: its handles hear kRevoked.
  void Revoked(int64_t lease_id);

  struct Stats {
    StreamState state = StreamState::kIdle;
    uint64_t streams_opened = 0;
    uint64_t handoffs = 0;  // reading handed to a new thread (blocked listener)
    uint64_t requests_sent = 0;
    uint64_t responses = 0;
    size_t kept_leases = 0;
  };
  Stats stats() const;

 private:
  struct OnceCall {
    int64_t lease_id;
    absl::Time deadline;
    Callback<LeaseKeepAliveResult> done;  // empty once completed
  };
  struct Pending {
    absl::Time sent_at;
    std::shared_ptr<OnceCall> once;  // null for a renewal
  };
  struct Entry {
    std::vector<std::shared_ptr<LeaseHolder>> holders;  // kept while not empty
    int64_t ttl_seconds = 0;                            // last granted/renewed TTL; 0 unknown
    absl::Time next_send = absl::InfiniteFuture();
    absl::Time deadline = absl::InfiniteFuture();
    // Usually zero or one element: small inline FIFOs (a std::deque allocates
    // even when empty, and entries come and go with every KeepAliveOnce).
    absl::InlinedVector<Pending, 1> in_flight;  // written on this stream, oldest first
    absl::InlinedVector<std::shared_ptr<OnceCall>, 1> unsent_once;  // waiting for the stream
  };
  // Work collected under the lock and carried out after releasing it.
  struct Deliveries {
    absl::InlinedVector<std::pair<std::shared_ptr<LeaseHolder>, int64_t>, 1> renewed;  // ttl
    std::vector<std::pair<std::shared_ptr<LeaseHolder>, LeaseLoss>> lost;
    absl::InlinedVector<
        std::pair<Callback<LeaseKeepAliveResult>, absl::StatusOr<LeaseKeepAliveResult>>, 1>
        once;
  };

  // Stream handler (reader thread).
  void OnOpen(Stream::Writer& writer) override;
  void OnMessage(etcdserverpb::LeaseKeepAliveResponse& response) override;
  void OnBroken(const absl::Status& status) override;

  void EnsureStarted();
  // Deadlines, KeepAliveOnce time-outs, a stalled stream, due renewals.
  absl::Time OnTimer(absl::Time now) override;
  absl::Time NextWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration Interval(const Entry& entry) const;
  void Schedule(int64_t id, Entry& entry, absl::Time next_send) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetDeadline(int64_t id, Entry& entry, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends keeping `id`: every holder hears `loss`.
  void Drop(int64_t id, Entry& entry, const LeaseLoss& loss, Deliveries& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseIfUnused(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteSent(Entry& entry, absl::Time now, std::shared_ptr<OnceCall> once)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the callback out under the lock, so that exactly one of answer,
  // time-out and shutdown completes a call.
  void Complete(OnceCall& call, absl::StatusOr<LeaseKeepAliveResult> result, Deliveries& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the timer if `when` comes before its planned wake-up.
  void WakeTimerBy(absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendDueRenewals();
  // Writes KeepAliveOnce calls made from callbacks on the reader thread.
  void FlushDeferred();
  static void Deliver(Deliveries& deliveries);

  Timer& timer_;
  const KeepAliveOptions options_;
  const absl::Duration request_timeout_;
  Stream stream_;

  // Taken after the stream's writer lock when both are needed (write order must
  // match the order of `in_flight`).
  mutable Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time planned_wake_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Renewals are only due while the stream is open; OnOpen() catches up.
  bool stream_open_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> started_fast_{false};  // EnsureStarted() without the lock
  absl::flat_hash_map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, int64_t>> renewals_ ABSL_GUARDED_BY(mu_);  // next_send, id
  std::set<std::pair<absl::Time, int64_t>> deadlines_ ABSL_GUARDED_BY(mu_);  // deadline, id
  // KeepAliveOnce calls in deadline order (every deadline is "now + request
  // time-out", so call order is deadline order); completed ones are dropped
  // from the front as they come up.
  std::deque<std::shared_ptr<OnceCall>> once_deadlines_ ABSL_GUARDED_BY(mu_);
  // The earliest wake-up known to be requested from the timer: asking again
  // for a later time would only cost the timer's lock.
  absl::Time requested_wake_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Send times of every request on the stream in order (etcd answers a
  // keep-alive stream in order): the oldest tells whether the stream stalled.
  std::deque<absl::Time> unanswered_ ABSL_GUARDED_BY(mu_);
  // Leases with KeepAliveOnce calls made from callbacks on the reader thread
  // and not written yet (in `unsent_once`), in call order. They are written
  // as one burst once at least as many wait as remain unanswered (or none
  // remain): like refilling a window when half of it is free, it turns one
  // flush per answer into one per half window.
  std::vector<int64_t> deferred_ids_ ABSL_GUARDED_BY(mu_);
  uint64_t requests_sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t responses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdgrpc::internal
