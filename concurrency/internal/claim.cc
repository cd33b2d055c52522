#include "concurrency/internal/claim.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/serial_executor.h"
#include "concurrency/internal/cancel_state.h"
#include "concurrency/internal/keys.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::concurrency::internal {
namespace {

using ::etcdgrpc::internal::CondVar;
using ::etcdgrpc::internal::MonoNow;
using ::etcdgrpc::internal::MutexLock;
using SyncMutex = ::etcdgrpc::internal::Mutex;

// A wall-clock deadline on the library's monotonic clock.
absl::Time MonoDeadline(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return deadline;
  return MonoNow() + (deadline - absl::Now());
}

}  // namespace

// What the watches, the session, a canceller and the waiting thread share.
class ClaimState : public std::enable_shared_from_this<ClaimState> {
 public:
  ClaimState(Client* client, std::string key, int64_t create_revision)
      : client_(client), key_(std::move(key)), create_revision_(create_revision) {}

  absl::Status StartOwnWatch(int64_t from) {
    // Only now, after construction, is there a shared_ptr for the listener to follow.
    own_listener_.Follow(weak_from_this());
    MutexLock lock(&mu_);
    return WatchOwnLocked(from);
  }

  // Our key or session is gone: waiters wake, a holder hears it.
  void Lose(const absl::Status& why) {
    // on_lost may unlock or destroy the Mutex or Election, dropping the last
    // Claim: this state (its executor, its listener) must outlive the call.
    std::shared_ptr<ClaimState> self = shared_from_this();
    bool drain = false;
    {
      MutexLock lock(&mu_);
      if (!lost_.ok() || stopped_) return;
      lost_ = why;
      changed_.Notify();
      if (held_ && on_lost_) {
        drain = executor_.Post([callback = on_lost_, why]() { callback(why); });
      }
    }
    if (drain) executor_.Drain();
  }

  void Cancel() {
    MutexLock lock(&mu_);
    cancelled_ = true;
    changed_.Notify();
  }

  void Hold(ClaimLostCallback on_lost) {
    std::shared_ptr<ClaimState> self = shared_from_this();  // as in Lose
    bool drain = false;
    {
      MutexLock lock(&mu_);
      held_ = true;
      on_lost_ = std::move(on_lost);
      // Lost between the wait's end and now: the holder hears it all the same.
      if (!lost_.ok() && on_lost_) {
        drain = executor_.Post([callback = on_lost_, why = lost_]() { callback(why); });
      }
    }
    if (drain) executor_.Drain();
  }

  absl::Status lost() const {
    MutexLock lock(&mu_);
    return lost_;
  }

  // Starts waiting for one key ahead of ours; its listener passes the
  // returned generation.
  uint64_t BeginWait() {
    MutexLock lock(&mu_);
    ahead_deleted_ = false;
    ahead_end_ = absl::OkStatus();
    return ++ahead_generation_;
  }
  void AheadDeleted(uint64_t generation) {
    MutexLock lock(&mu_);
    if (generation != ahead_generation_) return;
    ahead_deleted_ = true;
    changed_.Notify();
  }
  void AheadEnded(uint64_t generation, const absl::Status& why) {
    MutexLock lock(&mu_);
    if (generation != ahead_generation_) return;
    ahead_end_ = why.ok() ? absl::UnknownError("the watch ended") : why;
    changed_.Notify();
  }

  // OK when the key ahead was deleted, or its watch was compacted (the caller
  // reads again); otherwise why the wait ends.
  absl::Status AwaitAhead(uint64_t generation, absl::Time mono_deadline,
                          const std::string& ahead_key) {
    MutexLock lock(&mu_);
    changed_.WaitUntil(mu_, mono_deadline, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return ahead_deleted_ || !lost_.ok() || cancelled_ || !ahead_end_.ok();
    });
    (void)generation;
    if (!lost_.ok()) return lost_;
    if (cancelled_) return absl::CancelledError("the wait was cancelled");
    if (ahead_deleted_) return absl::OkStatus();
    if (!ahead_end_.ok()) return IsCompacted(ahead_end_) ? absl::OkStatus() : ahead_end_;
    return absl::DeadlineExceededError(
        absl::StrCat("deadline passed while waiting for ", Printable(ahead_key), " to go"));
  }

  // Before each round: the reasons to stop waiting that need no watch.
  absl::Status CheckBeforeRound(absl::Time mono_deadline) const {
    MutexLock lock(&mu_);
    if (!lost_.ok()) return lost_;
    if (cancelled_) return absl::CancelledError("the wait was cancelled");
    if (MonoNow() >= mono_deadline) {
      return absl::DeadlineExceededError("deadline passed while waiting for the keys ahead");
    }
    return absl::OkStatus();
  }

  void Stop() {
    WatchHandle own;
    {
      MutexLock lock(&mu_);
      stopped_ = true;
      own = std::move(own_watch_);
    }
    // Outside the lock: both wait for a call in progress, which may want it.
    own.Cancel();
    executor_.Stop();
  }

 private:
  // Hears our own key. Follows the state through a weak_ptr, locked for each
  // call: a callback it runs may drop the last Claim, and with it the state
  // this listener is part of.
  class OwnKeyListener final : public WatchListener {
   public:
    void Follow(std::weak_ptr<ClaimState> state) { weak_state_ = std::move(state); }
    void OnEvents(const WatchEvents& batch) override {
      std::shared_ptr<ClaimState> state = weak_state_.lock();
      if (state == nullptr) return;
      for (const Event& event : batch.events) {
        if (event.type == EventType::kDelete) {
          state->Lose(absl::FailedPreconditionError(absl::StrCat(
              Printable(state->key_), " was deleted at revision ", event.kv.mod_revision)));
          return;
        }
        if (event.kv.create_revision != state->create_revision_) {
          state->Lose(absl::FailedPreconditionError(absl::StrCat(Printable(state->key_),
                                                                 " was created again at revision ",
                                                                 event.kv.create_revision)));
          return;
        }
        // Our own Proclaim: the same key, still ours.
      }
    }
    void OnEnd(const WatchEnd& end) override {
      if (std::shared_ptr<ClaimState> state = weak_state_.lock()) state->OwnWatchEnded(end);
    }

   private:
    // Set before the watch starts, read only by its calls.
    std::weak_ptr<ClaimState> weak_state_;
  };

  absl::Status WatchOwnLocked(int64_t from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopped_) return absl::OkStatus();
    absl::StatusOr<WatchHandle> watch = client_->Watch(
        WatchRequest{.range = KeyRange::Key(key_), .start_revision = from}, &own_listener_);
    if (!watch.ok()) return watch.status();
    // The one it replaces has ended (it is why we are here): dropping it does not wait.
    own_watch_ = *std::move(watch);
    return absl::OkStatus();
  }

  void OwnWatchEnded(const WatchEnd& end) {
    if (IsClientClosed(end.status)) return Lose(end.status);
    if (!IsCompacted(end.status)) {
      return Lose(absl::FailedPreconditionError(
          absl::StrCat("the watch on ", Printable(key_), " ended: ", end.status.message())));
    }
    // Events were compacted away while the stream was down: read the key, and
    // watch it again from there if it is still ours.
    {
      MutexLock lock(&mu_);
      if (stopped_) return;
    }
    client_->GetAsync(key_, {}, [weak = weak_from_this()](absl::StatusOr<GetResult> result) {
      std::shared_ptr<ClaimState> self = weak.lock();
      if (self == nullptr) return;
      if (!result.ok()) return self->Lose(result.status());
      if (result->kvs.empty() || result->kvs[0].create_revision != self->create_revision_) {
        return self->Lose(
            absl::FailedPreconditionError(absl::StrCat(Printable(self->key_), " was deleted")));
      }
      absl::Status watched;
      {
        MutexLock lock(&self->mu_);
        watched = self->WatchOwnLocked(result->header.revision + 1);
      }
      if (!watched.ok()) self->Lose(watched);
    });
  }

  Client* const client_;  // valid while the Claim (which holds the session) lives
  const std::string key_;
  const int64_t create_revision_;
  OwnKeyListener own_listener_;
  ::etcdgrpc::internal::SerialExecutor executor_;

  mutable SyncMutex mu_;
  CondVar changed_;
  absl::Status lost_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  ClaimLostCallback on_lost_ ABSL_GUARDED_BY(mu_);
  uint64_t ahead_generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool ahead_deleted_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status ahead_end_ ABSL_GUARDED_BY(mu_);
  // Declared last: destroyed (cancelled) first, while the listener exists.
  WatchHandle own_watch_ ABSL_GUARDED_BY(mu_);
};

namespace {

// Hears the key just ahead of ours: its deletion, or the end of its watch.
class AheadListener final : public WatchListener {
 public:
  AheadListener(std::shared_ptr<ClaimState> state, uint64_t generation)
      : state_(std::move(state)), generation_(generation) {}
  void OnEvents(const WatchEvents& batch) override {
    for (const Event& event : batch.events) {
      if (event.type == EventType::kDelete) return state_->AheadDeleted(generation_);
    }
  }
  void OnEnd(const WatchEnd& end) override { state_->AheadEnded(generation_, end.status); }

 private:
  const std::shared_ptr<ClaimState> state_;
  const uint64_t generation_;
};

}  // namespace

Claim::Claim(std::shared_ptr<Session> session, std::string key, int64_t create_revision)
    : session_(std::move(session)), key_(std::move(key)), create_revision_(create_revision) {}

absl::StatusOr<std::unique_ptr<Claim>> Claim::Start(std::shared_ptr<Session> session,
                                                    std::string key, int64_t create_revision,
                                                    int64_t watch_from) {
  std::unique_ptr<Claim> claim(new Claim(std::move(session), std::move(key), create_revision));
  claim->state_ =
      std::make_shared<ClaimState>(&claim->session_->client(), claim->key_, create_revision);
  if (absl::Status watched = claim->state_->StartOwnWatch(watch_from); !watched.ok()) {
    return watched;
  }
  claim->session_subscription_ = claim->session_->OnLoss(
      [state = claim->state_](const absl::Status& why) { state->Lose(why); });
  return claim;
}

Claim::~Claim() { Stop(); }

void Claim::Stop() {
  session_subscription_.Cancel();
  state_->Stop();
}

void Claim::Hold(ClaimLostCallback on_lost) { state_->Hold(std::move(on_lost)); }

absl::Status Claim::lost() const { return state_->lost(); }

absl::StatusOr<ResponseHeader> Claim::WaitForPredecessors(const std::string& prefix,
                                                          const WaitOptions& options) {
  const absl::Time mono_deadline = MonoDeadline(options.deadline);
  std::shared_ptr<CancelState> cancel =
      options.canceller != nullptr ? options.canceller->state() : nullptr;
  uint64_t cancel_id = 0;
  if (cancel != nullptr) {
    cancel_id = cancel->Add([weak = std::weak_ptr<ClaimState>(state_)]() {
      if (std::shared_ptr<ClaimState> state = weak.lock()) state->Cancel();
    });
    if (cancel_id == 0) return absl::CancelledError("the wait was cancelled");
  }
  absl::Cleanup unregister = [&] {
    if (cancel != nullptr) cancel->Remove(cancel_id);
  };
  Client& client = session_->client();
  while (true) {
    if (absl::Status s = state_->CheckBeforeRound(mono_deadline); !s.ok()) return s;
    // One read: the newest key created before ours, and ours (Go 3.5 checks
    // after the wait that the session's key still exists).
    TxnRequest read;
    read.Then(Op::Range(KeyRange::Prefix(prefix), NewestCreatedBefore(create_revision_)))
        .Then(Op::Get(key_));
    absl::StatusOr<TxnResult> result = client.Txn(read);
    if (!result.ok()) return result.status();
    const GetResult* ahead = result->results.size() == 2 ? result->results[0].get() : nullptr;
    const GetResult* own = result->results.size() == 2 ? result->results[1].get() : nullptr;
    if (ahead == nullptr || own == nullptr) {
      return absl::InternalError("etcd answered a read of two ranges with something else");
    }
    if (own->kvs.empty() || own->kvs[0].create_revision != create_revision_) {
      state_->Lose(absl::FailedPreconditionError(
          absl::StrCat(Printable(key_), " is gone (",
                       session_->status().ok() ? "deleted" : session_->status().message(), ")")));
      return state_->lost();
    }
    if (ahead->kvs.empty()) return result->header;
    const std::string& ahead_key = ahead->kvs[0].key;
    const uint64_t generation = state_->BeginWait();
    AheadListener listener(state_, generation);
    absl::StatusOr<WatchHandle> watch =
        client.Watch(WatchRequest{.range = KeyRange::Key(ahead_key),
                                  .start_revision = result->header.revision + 1,
                                  .no_put = true},
                     &listener);
    if (!watch.ok()) return watch.status();
    absl::Status waited = state_->AwaitAhead(generation, mono_deadline, ahead_key);
    watch->Cancel();  // before `listener` goes
    if (!waited.ok()) return waited;
  }
}

}  // namespace etcdgrpc::concurrency::internal
