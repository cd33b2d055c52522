// Watching keys: what to watch, the typed events, the listener that receives
// them and the RAII handle that cancels the watch. All watches of a client
// share one Watch stream; see README, "Watch", for revisions, resumption and
// the slow-listener policy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/types.h"

namespace etcdgrpc {

struct ETCDGRPC_EXPORT WatchRequest {
  // The keys to watch (single key, prefix, range, from-key).
  KeyRange range;
  // First revision to deliver. 0: from now on (events after the watch is
  // created). A revision in the future is accepted: etcd delivers nothing
  // until the store reaches it. A revision below the last compaction ends
  // the watch with a Compacted end.
  int64_t start_revision = 0;
  // Include the key-value before each event (etcd reads it at mod_revision-1).
  bool prev_kv = false;
  // Filters: leave out PUT or DELETE events.
  bool no_put = false;
  bool no_delete = false;
  // Ask etcd for periodic progress notifications (listener's OnProgress).
  bool progress_notify = false;
  // Let etcd split large responses; the client joins the fragments, so
  // listeners always see whole responses.
  bool fragment = false;
};

enum class EventType { kPut, kDelete };

struct ETCDGRPC_EXPORT Event {
  EventType type = EventType::kPut;
  KeyValue kv;  // for kDelete: the key and mod_revision (the deletion's revision)
  std::optional<KeyValue> prev_kv;

  friend bool operator==(const Event&, const Event&) = default;
};

// One response of etcd (fragments joined): events of one watch in revision
// order, never empty.
struct ETCDGRPC_EXPORT WatchEvents {
  // The store revision the response was sent at (>= every event's revision;
  // during catch-up it can be well ahead of them).
  int64_t revision = 0;
  std::vector<Event> events;
};

// Why a watch ended. At most one end is delivered, and it is the last call.
struct ETCDGRPC_EXPORT WatchEnd {
  // CANCELLED: the watch handle was dropped or the client closed;
  // OUT_OF_RANGE (IsCompacted): the revision to resume from was compacted,
  // `compact_revision` says up to where; PERMISSION_DENIED; or the reason etcd
  // gave for cancelling the watch.
  absl::Status status;
  int64_t compact_revision = 0;
  // The revision the watch would have continued from: to resume with a new
  // watch after re-reading the keys, or to report.
  int64_t next_revision = 0;
};

// Receives one watch's events. Calls for one watch never overlap and come in
// order. They run on the client's watch stream thread, never under a library
// lock. A call that blocks does not stop other watches (their events are read
// on by another thread after ClientOptions::slow_listener_handoff) but this
// watch's events wait, buffered, until it returns.
class ETCDGRPC_EXPORT WatchListener {
 public:
  virtual ~WatchListener() = default;
  virtual void OnEvents(const WatchEvents& batch) = 0;
  // Every event up to `revision` has been delivered (a progress notification
  // or an answer to Client::RequestProgress()).
  virtual void OnProgress(int64_t /*revision*/) {}
  virtual void OnEnd(const WatchEnd& /*end*/) {}
};

namespace internal {
class WatchStream;
struct WatchState;
}  // namespace internal

// A live watch. Destroying it (or Cancel()) cancels it on the server
// (WatchCancelRequest) and stops its listener calls; it waits for a listener
// call in progress unless called from that call. It may outlive the Client.
class ETCDGRPC_EXPORT WatchHandle {
 public:
  WatchHandle() = default;
  WatchHandle(WatchHandle&&) noexcept;
  WatchHandle& operator=(WatchHandle&&) noexcept;
  ~WatchHandle();

  void Cancel();
  // The client-chosen id of the watch on the stream (unique within a client).
  int64_t id() const;
  // The revision the watch resumes from after a stream break: the last
  // delivered event's mod_revision + 1 (0 before the watch was created).
  int64_t next_revision() const;
  // False for a default-constructed or moved-from handle and after Cancel()
  // (docs/design.md, "Handle lifetimes").
  [[nodiscard]] bool valid() const { return state_ != nullptr; }

  // Made by Client::Watch.
  WatchHandle(std::shared_ptr<internal::WatchStream> stream,
              std::shared_ptr<internal::WatchState> state);

 private:
  std::shared_ptr<internal::WatchStream> stream_;
  std::shared_ptr<internal::WatchState> state_;
};

}  // namespace etcdgrpc
