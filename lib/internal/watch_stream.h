// The client's watch stream: every watch of the client on one Watch stream
// (one reader thread). Watches carry client-chosen ids, so creates are
// pipelined and each response maps to its watch by id. Each watch keeps the
// revision to resume from (last delivered event's mod_revision + 1) and is
// re-created from it on every new stream, so nothing is lost or delivered
// twice. A stream quiet for `liveness.watch_probe_after` is probed with a
// progress request; no answer within `probe_timeout` moves it to another
// endpoint. See docs/design.md, "Watches and revisions" and "Failure model".
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "common/serial_executor.h"
#include "etcdgrpc/client_options.h"
#include "etcdgrpc/stats.h"
#include "etcdgrpc/watch.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/bidi_stream.h"

namespace etcdgrpc::internal {

struct WatchState {
  WatchState(int64_t id, WatchRequest request, WatchListener* listener)
      : id(id), request(std::move(request)), listener(listener) {}
  const int64_t id;
  const WatchRequest request;
  WatchListener* const listener;
  SerialExecutor executor;
  // For WatchHandle::next_revision() without the stream's lock.
  std::atomic<int64_t> next_revision_seen{0};

  // The rest is guarded by the WatchStream's lock.
  enum class Phase {
    kUnsent,    // waiting for a stream to be created on
    kCreating,  // create sent on the current stream, no answer yet
    kActive,    // created on the current stream
    kEnded,     // ended; no longer in the stream's table
  };
  Phase phase = Phase::kUnsent;
  // Where to resume: last delivered event's mod_revision + 1; before any
  // event, the start revision asked for, or (watching "from now") the created
  // response's revision + 1. 0 until known.
  int64_t next_revision = 0;
  // Events of a fragmented response received so far.
  std::vector<Event> fragments;
  // etcd refused the create for the stream's token (or said "permission
  // denied", which etcd 3.4 also says for an expired token) and the stream
  // was reopened with a new token; a second refusal ends the watch. Cleared
  // once the watch is created.
  bool token_retried = false;
};

class WatchStream
    : public BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>::Handler,
      public Scheduler::Slot {
 public:
  using Stream = BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

  WatchStream(Connection& connection, Scheduler& timer, const ClientOptions& options);
  ~WatchStream() override;

  // The client is closing: stops the stream; live watches end with CANCELLED.
  void Shutdown();

  [[nodiscard]] absl::StatusOr<std::shared_ptr<WatchState>> Watch(WatchRequest request,
                                                                  WatchListener* listener);
  // Cancels on the server and stops the listener (WatchHandle).
  void Cancel(const std::shared_ptr<WatchState>& watch);
  // Asks etcd for a progress notification on every watch of the stream (sent
  // when the stream next opens if it is not open now). On etcd releases that
  // answer early (< 3.4.25, < 3.5.8) the answer moves no resume revision and
  // reaches only the watches it is true for (see README, "Watches").
  [[nodiscard]] absl::Status RequestProgress();

  // The stream's counters for Client::stats().
  WatchStreamStats stats() const;

  // Liveness probe (timer thread).
  absl::Time OnTimer(absl::Time now) override;

 private:
  // Watches whose executors have listener calls queued (under the lock, so
  // that a hand-off cannot reorder them) and must be drained after it.
  using Drains = std::vector<std::shared_ptr<WatchState>>;

  void OnOpen(Stream::Writer& writer) override;
  void OnMessage(etcdserverpb::WatchResponse& response) override;
  // OnMessage's cases. What the stream must do after a create answer (with
  // the lock released).
  enum class StreamAction { kNone, kRefreshToken, kRestart };
  StreamAction OnCreated(const etcdserverpb::WatchResponse& response, Drains& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Compaction or cancellation of a created watch.
  void OnEndedByEtcd(const std::shared_ptr<WatchState>& watch,
                     const etcdserverpb::WatchResponse& response, Drains& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Events (possibly one fragment of a revision's) or a per-watch progress
  // notification.
  void OnEvents(const std::shared_ptr<WatchState>& watch, etcdserverpb::WatchResponse& response,
                Drains& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnBroken(const absl::Status& status) override;

  void EnsureStarted();
  etcdserverpb::WatchRequest CreateRequest(const WatchState& watch) const;
  // Removes the watch and queues its end.
  void End(const std::shared_ptr<WatchState>& watch, WatchEnd end, Drains& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueEvents(const std::shared_ptr<WatchState>& watch, WatchEvents events, Drains& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueProgress(const std::shared_ptr<WatchState>& watch, int64_t revision, Drains& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A stream-wide progress answer (watch_id -1) at `revision`.
  void OnStreamProgress(int64_t revision, Drains& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetNextRevision(WatchState& watch, int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Drain(Drains& drains);
  // A listener threw: cancel the watch and end it with `status`.
  void EndAfterListenerError(const std::shared_ptr<WatchState>& watch, absl::Status status);

  Connection& connection_;
  Scheduler& timer_;
  const absl::Duration probe_after_;
  const absl::Duration probe_timeout_;
  Stream stream_;

  // Taken after the stream's writer lock when both are needed.
  mutable Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, std::shared_ptr<WatchState>> watches_ ABSL_GUARDED_BY(mu_);
  // Ids of creates sent on the current stream and not yet answered, in order:
  // etcd answers creates in order, which maps a created response that does
  // not carry our id (watch_id -1, on an error) to its watch.
  std::deque<int64_t> creating_ ABSL_GUARDED_BY(mu_);
  uint64_t creates_sent_ ABSL_GUARDED_BY(mu_) = 0;
  // RequestProgress() while the stream was not open: ask once it is.
  bool progress_pending_ ABSL_GUARDED_BY(mu_) = false;
  // RequestProgress() was called and no stream-wide answer has come since:
  // the next one is delivered to listeners (a probe's answer is not).
  bool progress_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_open_ ABSL_GUARDED_BY(mu_) = false;
  // The open stream's generation (Stream::opens()), for Break().
  uint64_t stream_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // When the outstanding liveness probe was sent (MonoNow); InfiniteFuture: none.
  absl::Time probe_sent_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  uint64_t probes_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdgrpc::internal
