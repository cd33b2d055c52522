// StartAsyncCall and RunAsyncCallAndWait (call_engine.h): a balanced call on
// gRPC's callback API. Attempts start on the thread that decides them (the
// caller, a gRPC callback thread, the call timer); backoff and hedging delays
// wait on the timer; the caller's callback runs once every attempt has ended.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/listener_call.h"
#include "common/mutex.h"
#include "etcdgrpc/resolver/call_engine.h"
#include "resolver/internal/call_rules.h"
#include "resolver/internal/call_threads.h"

namespace etcdgrpc::resolver::call_engine {
namespace {

using ::etcdgrpc::internal::MonoNow;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

// How often a call with no endpoint to pick looks again (on the timer).
constexpr absl::Duration kEndpointPoll = absl::Milliseconds(5);

// True while this thread runs the engine's own code for a call (the first
// attempt on the caller's thread, a timer task): a callback decided there is
// handed to the runner, so that it never runs on the caller's thread or the
// timer. gRPC may complete an attempt inside Start, on such a thread.
thread_local bool t_inside_engine = false;

class InsideEngine {
 public:
  InsideEngine() : before_(t_inside_engine) { t_inside_engine = true; }
  ~InsideEngine() { t_inside_engine = before_; }
  InsideEngine(const InsideEngine&) = delete;
  InsideEngine& operator=(const InsideEngine&) = delete;

 private:
  const bool before_;
};

class AsyncCall : public std::enable_shared_from_this<AsyncCall> {
 public:
  AsyncCall(std::shared_ptr<CallThreads> threads, std::shared_ptr<Balancer> balancer,
            const CallPolicy& policy, const std::string& method,
            std::unique_ptr<AsyncAttempts> attempts, std::function<void(CallResult)> done)
      : threads_(std::move(threads)),
        balancer_(std::move(balancer)),
        policy_(policy),
        method_(method),
        face_(std::move(attempts)),
        done_(std::move(done)),
        deadline_(OverallDeadline(policy_)) {}

  void Begin() {
    InsideEngine inside;
    if (absl::Status valid = ValidateCallPolicy(policy_); !valid.ok()) {
      {
        MutexLock lock(&mu_);
        CommitStatusLocked(std::move(valid));
        delivered_ = true;
      }
      return Deliver();
    }
    Launch();
  }

 private:
  struct Attempt {
    int slot = 0;
    std::string address;
    // The context and the pick hold the endpoint's channel: both live as
    // long as the call (see Release).
    grpc::ClientContext context;
    std::optional<PickResult> pick;
    bool running = true;
    // The overall deadline cut its deadline short (OutcomeForBalancer).
    bool cut_short = false;
  };

  int MaxInFlight() const {
    return policy_.hedging.has_value() ? policy_.hedging->max_in_flight : 1;
  }

  // Starts one more attempt if the policy allows one now.
  void Launch() {
    InsideEngine inside;
    std::vector<std::string> tried;
    bool deliver = false;
    {
      MutexLock lock(&mu_);
      if (committed_) return;
      const int started = static_cast<int>(attempts_.size());
      if (started + launching_ >= policy_.retry.max_attempts ||
          running_ + launching_ >= MaxInFlight()) {
        return;
      }
      if (MonoNow() >= deadline_) {
        if (running_ + launching_ == 0) FinishOutOfTimeLocked();
        deliver = TakeDeliveryLocked();
      } else {
        ++launching_;
        tried = tried_;
      }
    }
    if (deliver) return Deliver();
    std::optional<PickResult> pick = PickAvoiding(*balancer_, tried);
    if (!pick.has_value()) {  // no endpoint now: look again on the timer
      {
        MutexLock lock(&mu_);
        --launching_;
        if (!committed_ && MonoNow() + kEndpointPoll < deadline_) {
          threads_->timer().PostAfter(kEndpointPoll,
                                      [self = shared_from_this()] { self->Launch(); });
        } else if (!committed_ && running_ + launching_ == 0) {
          CommitStatusLocked(
              NoEndpointStatus(method_, policy_, static_cast<int>(attempts_.size())));
        }
        deliver = TakeDeliveryLocked();
      }
      if (deliver) Deliver();
      return;
    }
    auto attempt = std::make_unique<Attempt>();
    attempt->address = pick->endpoint().address();
    attempt->cut_short = SetAttemptDeadline(attempt->context, policy_, deadline_);
    const std::shared_ptr<grpc::Channel> channel = pick->channel();
    attempt->pick.emplace(*std::move(pick));
    Attempt* const raw = attempt.get();
    int started = 0;  // attempts started, this one included; 0: it was not
    {
      MutexLock lock(&mu_);
      --launching_;
      if (!committed_) {
        raw->slot = static_cast<int>(attempts_.size());
        attempts_.push_back(std::move(attempt));
        tried_.push_back(raw->address);
        ++running_;
        ++callbacks_;
        started = static_cast<int>(attempts_.size());
      } else {
        deliver = TakeDeliveryLocked();
      }
    }
    if (started == 0) {
      // Decided while this attempt was being picked: it never starts. Kept
      // with the call like the others (Launch may run on a gRPC thread).
      raw->pick->Done(NotUsedStatus());
      {
        MutexLock lock(&mu_);
        unstarted_.push_back(std::move(attempt));
      }
      if (deliver) Deliver();
      return;
    }
    face_->Start(raw->slot, channel, &raw->context,
                 [self = shared_from_this(), raw](const grpc::Status& status) mutable {
                   AsyncCall& call = *self;
                   call.OnAttemptDone(raw, status);
                   call.Release(std::move(self));
                 });
    if (policy_.hedging.has_value() && started < policy_.retry.max_attempts) {
      threads_->timer().PostAfter(policy_.hedging->delay,
                                  [self = shared_from_this(), started] { self->OnHedge(started); });
    }
  }

  // The hedging delay of attempt `started` passed: send the next one unless
  // another was sent since (after a failure) or the call is decided.
  void OnHedge(int started) {
    {
      MutexLock lock(&mu_);
      if (committed_ || static_cast<int>(attempts_.size()) != started) return;
    }
    Launch();
  }

  void OnAttemptDone(Attempt* attempt, const grpc::Status& status) {
    bool cut_short = false;
    std::vector<grpc::ClientContext*> cancel;
    bool launch_now = false;
    std::optional<absl::Duration> backoff;
    bool deliver = false;
    {
      MutexLock lock(&mu_);
      attempt->running = false;
      --running_;
      cut_short = attempt->cut_short;
      if (!committed_) {
        if (status.ok() || !IsRetryable(status, policy_)) {
          cancel = CommitLocked(*attempt, status, "");
        } else {
          last_failure_ = status;
          const bool attempts_left =
              static_cast<int>(attempts_.size()) + launching_ < policy_.retry.max_attempts;
          const absl::Time now = MonoNow();
          if (attempts_left && now < deadline_) {
            if (policy_.hedging.has_value()) {
              launch_now = true;  // a hedged call retries at once (gRPC's A6)
            } else {
              if (!random_.has_value()) random_.emplace();
              const absl::Duration delay =
                  ::etcdgrpc::internal::Backoff::Delay(policy_.retry.backoff, retries_++, *random_);
              if (now + delay < deadline_) {
                backoff = delay;
              } else {
                cancel = CommitLocked(*attempt, status, OutOfTime(policy_));
              }
            }
          } else if (running_ + launching_ == 0) {
            cancel = CommitLocked(*attempt, status, attempts_left ? OutOfTime(policy_) : "");
          }
          // Otherwise hedged attempts still run: the last one decides.
        }
      }
      deliver = TakeDeliveryLocked();
    }
    // Outside the lock: the balancer and gRPC take their own. Only this
    // callback touches its attempt's pick once the attempt has ended.
    attempt->pick->Done(OutcomeForBalancer(status, cut_short));
    for (grpc::ClientContext* context : cancel) context->TryCancel();
    if (launch_now) Launch();
    if (backoff.has_value()) {
      threads_->timer().PostAfter(*backoff, [self = shared_from_this()] { self->Launch(); });
    }
    if (deliver) Deliver();
  }

  // Drops a gRPC callback's reference to the call. gRPC frees a callback,
  // and so this reference, on its callback thread after it returned; when
  // that reference was the call's last, the attempts' contexts and picks and
  // the balancer (and the caller's `done`) would be freed there, possibly
  // with the last references to a channel once the caller dropped its own:
  // a grpc::Channel destroyed on one of gRPC 1.51's callback threads can free
  // the process-wide callback queue that thread polls (ASan: double free in
  // grpc_cq_internal_unref; ReleaseInBody in
  // registry/internal/registration_util.h). The last callback hands its
  // reference to the runner instead; timer tasks drop theirs on the timer.
  void Release(std::shared_ptr<AsyncCall> self) {
    {
      MutexLock lock(&mu_);
      if (--callbacks_ > 0) {
        self.reset();  // not the last: the callback that decrements next holds one
        return;
      }
    }
    // No reference to the threads is taken here: this gRPC thread must never
    // hold the last one (~CallThreads joins the runner, whose job may be
    // waiting for this very thread, freeing gRPC's queue). The job holds the
    // call and so the threads; the runner outlives its job (its worker holds
    // it), and Post touches nothing of it once the job is queued.
    ::etcdgrpc::internal::ListenerRunner& runner = threads_->runner();
    runner.Post([call = std::move(self)] {});
  }

  // Decides the call with `attempt`'s answer; returns the contexts of the
  // attempts still running, to be cancelled outside the lock.
  std::vector<grpc::ClientContext*> CommitLocked(const Attempt& attempt, const grpc::Status& status,
                                                 absl::string_view why_stopped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    committed_ = true;
    result_.attempts = static_cast<int>(attempts_.size());
    result_.tried = tried_;
    result_.endpoint = attempt.address;
    result_.grpc_status = status;
    if (status.ok()) {
      result_.status = absl::OkStatus();
      winner_ = attempt.slot;
    } else {
      result_.status = FinalStatus(status, method_, attempt.address, attempt.slot + 1, policy_,
                                   tried_, why_stopped);
    }
    std::vector<grpc::ClientContext*> cancel;
    for (const auto& other : attempts_) {
      if (other->running) cancel.push_back(&other->context);
    }
    return cancel;
  }

  // Decides the call without an attempt's answer (bad policy, no endpoint).
  void CommitStatusLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    committed_ = true;
    result_.attempts = static_cast<int>(attempts_.size());
    result_.tried = tried_;
    result_.status = std::move(status);
  }

  // The deadline passed before an attempt could start (nothing running).
  void FinishOutOfTimeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (attempts_.empty()) {
      CommitStatusLocked(NoEndpointStatus(method_, policy_, 0));
      return;
    }
    const Attempt& last = *attempts_.back();
    (void)CommitLocked(last, last_failure_, OutOfTime(policy_));
  }

  // True once: the call is decided and no attempt runs or is being started.
  bool TakeDeliveryLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!committed_ || delivered_ || running_ > 0 || launching_ > 0) return false;
    delivered_ = true;
    return true;
  }

  void Deliver() {
    CallResult result;
    int winner = -1;
    {
      MutexLock lock(&mu_);
      result = std::move(result_);
      winner = winner_;
    }
    // No attempt runs any more: the responses are no longer written.
    if (winner >= 0) face_->Adopt(winner);
    internal::RecordBalancedCall(*balancer_, result.attempts);
    if (t_inside_engine) {
      threads_->runner().Post([self = shared_from_this(), result = std::move(result)]() mutable {
        self->CallDone(std::move(result));
      });
    } else {
      CallDone(std::move(result));
    }
  }

  // `done_` stays with the call: it is freed where the call is (Release).
  void CallDone(CallResult result) {
    (void)::etcdgrpc::internal::CallListener("balanced call's callback",
                                             [&] { done_(std::move(result)); });
  }

  const std::shared_ptr<CallThreads> threads_;
  const std::shared_ptr<Balancer> balancer_;
  const CallPolicy policy_;
  const std::string& method_;
  const std::unique_ptr<AsyncAttempts> face_;
  // Called once, by the one Deliver().
  std::function<void(CallResult)> done_;
  const absl::Time deadline_;

  Mutex mu_;
  // By slot; an attempt's context lives until the call is freed.
  std::vector<std::unique_ptr<Attempt>> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> tried_ ABSL_GUARDED_BY(mu_);
  // Attempts that never started (decided while being picked).
  std::vector<std::unique_ptr<Attempt>> unstarted_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  // gRPC callbacks of started attempts that have not released their
  // reference to the call yet (Release).
  int callbacks_ ABSL_GUARDED_BY(mu_) = 0;
  // Launches between their first check and their attempt's start.
  int launching_ ABSL_GUARDED_BY(mu_) = 0;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status last_failure_ ABSL_GUARDED_BY(mu_);
  bool committed_ ABSL_GUARDED_BY(mu_) = false;
  bool delivered_ ABSL_GUARDED_BY(mu_) = false;
  int winner_ ABSL_GUARDED_BY(mu_) = -1;
  CallResult result_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::BitGen> random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void StartAsyncCall(std::shared_ptr<CallThreads> threads, std::shared_ptr<Balancer> balancer,
                    const CallPolicy& policy, const std::string& method,
                    std::unique_ptr<AsyncAttempts> attempts, std::function<void(CallResult)> done) {
  std::make_shared<AsyncCall>(std::move(threads), std::move(balancer), policy, method,
                              std::move(attempts), std::move(done))
      ->Begin();
}

CallResult RunAsyncCallAndWait(std::shared_ptr<CallThreads> threads,
                               std::shared_ptr<Balancer> balancer, const CallPolicy& policy,
                               const std::string& method, std::unique_ptr<AsyncAttempts> attempts) {
  struct Waiter {
    ::etcdgrpc::internal::Notification done;
    CallResult result;
  };
  auto waiter = std::make_shared<Waiter>();
  StartAsyncCall(std::move(threads), std::move(balancer), policy, method, std::move(attempts),
                 [waiter](CallResult result) {
                   waiter->result = std::move(result);
                   waiter->done.Notify();
                 });
  waiter->done.WaitForNotification();
  return std::move(waiter->result);
}

}  // namespace etcdgrpc::resolver::call_engine
