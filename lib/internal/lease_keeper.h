// The client's lease keeper: keeps any number of leases alive over one
// LeaseKeepAlive stream with one timer for all of them. Per kept lease: a
// deadline (monotonic) and at most one renewal per interval (TTL x
// renew_fraction) on a healthy stream; renewals due in the same tick are
// written as one burst by the stream's writer thread (the timer keeps the
// deadlines and never writes). A stream whose renewals go unanswered for
// `liveness.renewal_timeout` is stuck: it moves to another endpoint, where
// every kept lease is renewed at once, earliest deadline first. KeepAliveOnce
// calls share the stream, matched to responses by lease id and order. See
// docs/design.md, "Kept leases" and "Failure model".
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/listener_runner.h"
#include "common/mutex.h"
#include "common/serial_executor.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/lease.h"
#include "etcdgrpc/stats.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/bidi_stream.h"

namespace etcdgrpc::internal {

// One KeptLease handle: its listener and the executor that serializes calls.
struct LeaseHolder {
  LeaseHolder(LeaseListener* listener, int64_t lease_id) : listener(listener), lease_id(lease_id) {}
  LeaseListener* const listener;
  const int64_t lease_id;
  SerialExecutor executor;
};

class LeaseKeeper : public BidiStream<etcdserverpb::LeaseKeepAliveRequest,
                                      etcdserverpb::LeaseKeepAliveResponse>::Handler,
                    public Scheduler::Slot {
 public:
  using Stream =
      BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;

  // `runner` runs the user callbacks that come due on the timer thread.
  LeaseKeeper(Connection& connection, Scheduler& timer, ListenerRunner& runner,
              const ClientOptions& options);
  ~LeaseKeeper() override;

  // The client is closing: stops the stream; kept leases hear kClientClosed,
  // KeepAliveOnce calls in flight complete with CANCELLED.
  void Shutdown();

  [[nodiscard]] std::shared_ptr<LeaseHolder> Keep(int64_t lease_id, LeaseListener* listener,
                                                  const KeepOptions& options);
  // Stops one handle's renewals (KeptLease::Stop).
  void Unkeep(const std::shared_ptr<LeaseHolder>& holder);
  // One renewal on the shared stream; `done` runs on the stream's reader or
  // the runner's worker (or here, on immediate failure).
  void KeepAliveOnce(int64_t lease_id, Callback<LeaseKeepAliveResult> done);
  // This client revoked the lease: its handles hear kRevoked.
  void Revoked(int64_t lease_id);

  // The stream's counters for Client::stats().
  KeepAliveStreamStats stats() const;

 private:
  static etcdserverpb::LeaseKeepAliveRequest RequestFor(int64_t id);
  // The next multiple of `tick` at or after `t`: renewals due within one tick
  // share one wake-up and one write burst.
  static absl::Time TickCeil(absl::Time t, absl::Duration tick);

  struct OnceCall {
    int64_t lease_id;
    absl::Time deadline;                  // MonoNow()
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
  // Listener calls are queued on each holder's executor under the lock (so a
  // hand-off cannot reorder them); these are the executors to drain and the
  // KeepAliveOnce completions to run once the lock is released.
  struct Deliveries {
    absl::InlinedVector<std::shared_ptr<LeaseHolder>, 1> drain;
    absl::InlinedVector<
        std::pair<Callback<LeaseKeepAliveResult>, absl::StatusOr<LeaseKeepAliveResult>>, 1>
        once;
    bool empty() const { return drain.empty() && once.empty(); }
  };

  // Stream handler (reader thread).
  void OnOpen(Stream::Writer& writer) override;
  void OnMessage(etcdserverpb::LeaseKeepAliveResponse& response) override;
  void OnBroken(const absl::Status& status) override;
  // Writer thread: queues the renewals due, returns when the next ones are.
  absl::Time OnWriterTick(absl::Time now, Stream::Writer& writer) override;

  void EnsureStarted();
  // Deadlines, KeepAliveOnce time-outs, a stuck stream, due renewals.
  absl::Time OnTimer(absl::Time now) override;
  absl::Time NextWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration Interval(const Entry& entry) const;
  // How long renewals may go unanswered before the stream counts as stuck.
  absl::Duration StallTimeout() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Schedule(int64_t id, Entry& entry, absl::Time next_send) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetDeadline(int64_t id, Entry& entry, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetTtl(Entry& entry, int64_t ttl_seconds) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  void QueueRenewed(const std::shared_ptr<LeaseHolder>& holder, int64_t ttl, Deliveries& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueLost(const std::shared_ptr<LeaseHolder>& holder, LeaseLoss loss, Deliveries& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the timer if `when` comes before its planned wake-up.
  void WakeTimerBy(absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the writer if a renewal was scheduled before its planned tick.
  void WakeWriterIfNeeded();
  // Writes KeepAliveOnce calls made from callbacks on the reader thread.
  void FlushDeferred();
  // Runs the deliveries here (reader or caller thread).
  static void Deliver(Deliveries& deliveries);

  Scheduler& timer_;
  ListenerRunner& runner_;
  // Null when metrics are off.
  ClientMetrics* const metrics_;
  const KeepAliveOptions options_;
  const absl::Duration request_timeout_;
  const absl::Duration renewal_timeout_;
  Stream stream_;

  // Taken inside the stream's writer lock when both are needed (queue order
  // must match the order of `in_flight`).
  mutable Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // Renewals are only due while the stream is open; OnOpen() catches up.
  bool stream_open_ ABSL_GUARDED_BY(mu_) = false;
  // The open stream's generation (Stream::opens()), for Break().
  uint64_t stream_generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> started_fast_{false};  // EnsureStarted() without the lock
  absl::flat_hash_map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, int64_t>> renewals_ ABSL_GUARDED_BY(mu_);   // next_send, id
  std::set<std::pair<absl::Time, int64_t>> deadlines_ ABSL_GUARDED_BY(mu_);  // deadline, id
  // Kept leases per known TTL (seconds): the shortest bounds the stall time-out.
  std::map<int64_t, size_t> ttl_counts_ ABSL_GUARDED_BY(mu_);
  // KeepAliveOnce calls in deadline order (every deadline is "now + request
  // time-out", so call order is deadline order); completed ones are dropped
  // from the front as they come up.
  std::deque<std::shared_ptr<OnceCall>> once_deadlines_ ABSL_GUARDED_BY(mu_);
  // The earliest wake-up known to be requested from the timer: asking again
  // for a later time would only cost the timer's lock.
  absl::Time requested_wake_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // When the writer plans its next tick (OnWriterTick's answer), and the
  // earlier tick a renewal scheduled since needs (InfiniteFuture: none).
  absl::Time writer_planned_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time writer_needed_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Send times of every request on the stream in order (etcd answers a
  // keep-alive stream in order), and when the last answer came: a stream
  // with requests outstanding and no answer for StallTimeout() is stuck.
  std::deque<absl::Time> unanswered_ ABSL_GUARDED_BY(mu_);
  absl::Time last_response_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Leases with KeepAliveOnce calls made from callbacks on the reader thread
  // and not queued yet (in `unsent_once`), in call order. They are queued
  // as one burst once at least as many wait as remain unanswered (or none
  // remain): like refilling a window when half of it is free, it turns one
  // flush per answer into one per half window.
  std::vector<int64_t> deferred_ids_ ABSL_GUARDED_BY(mu_);
  uint64_t requests_sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t responses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t leases_lost_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdgrpc::internal
