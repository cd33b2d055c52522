// A live view of one service's endpoints: the registry records under the
// service's prefix, listed once and then followed on the client's shared
// watch stream, published as immutable snapshots that readers load without
// a lock.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "etcdgrpc/export.h"
#include "etcdgrpc/resolver/endpoint.h"

namespace etcdgrpc::resolver {

// Hears one subscription's changes. Calls for one subscription never
// overlap, come in order and never run under a library lock. The first ones
// (the current set) run on the subscribing thread, inside Subscribe(); later
// ones on the resolver's listener thread, shared by its subscriptions. A call
// that blocks for longer than the client's slow_listener_handoff gets the
// other subscriptions' calls handed to a new thread: it delays only its own
// later calls (queued in memory, in order, none skipped) and a Cancel() of
// its subscription or the Resolver's destruction (which wait for it); the
// view, its snapshots, balancers and other subscribers go on. A call that
// throws ends only its own subscription: OnEnd(INTERNAL, with the
// exception's text) is its last call. A call may cancel or destroy its own
// Subscription.
class ETCDGRPC_EXPORT ServiceListener {
 public:
  virtual ~ServiceListener() = default;
  // The endpoints changed; first called with the current set (as all
  // "added") when subscribing.
  virtual void OnUpdate(const EndpointSet& endpoints, const EndpointChanges& changes) = 0;
  // Something the view worked around: a record that does not decode or has
  // an unusable address (skipped; reported once per version of the record,
  // and to a new subscriber, before its first OnUpdate, for each record
  // skipped at that time), a compaction that forced a re-list, a watch that
  // ended and was started again.
  virtual void OnProblem(const absl::Status& /*problem*/) {}
  // The subscription ended for a reason other than its own Cancel(); the
  // last call. INTERNAL: a call of this listener threw. CANCELLED: the view
  // stopped following the service (the client was closed, or the Resolver
  // was destroyed); its last snapshot stays.
  virtual void OnEnd(const absl::Status& /*status*/) {}
};

namespace internal {
class BalancerCore;
class ViewCore;
}  // namespace internal

// What a view has had to work around, for monitoring and tests.
struct ETCDGRPC_EXPORT ServiceViewStats {
  // Full re-lists of the service prefix (after a compaction, or a watch that
  // could not be started again).
  int relists = 0;
  // Watches started again from the next revision after etcd ended one.
  int rewatches = 0;
};

class ETCDGRPC_EXPORT ServiceView {
 public:
  explicit ServiceView(std::shared_ptr<internal::ViewCore> core);
  ~ServiceView();

  [[nodiscard]] const std::string& service() const;
  // The current endpoints. Lock-free.
  [[nodiscard]] std::shared_ptr<const EndpointSet> snapshot() const;

  // Ends listener calls when destroyed (waits for one in progress unless
  // destroyed from inside it).
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&&) noexcept;
    Subscription& operator=(Subscription&&) noexcept;
    ~Subscription();
    void Cancel();
    // False for a default-constructed or moved-from handle and after Cancel().
    [[nodiscard]] bool valid() const { return state_ != nullptr; }

    Subscription(std::shared_ptr<internal::ViewCore> core, std::shared_ptr<void> state);

   private:
    std::shared_ptr<internal::ViewCore> core_;
    std::shared_ptr<void> state_;
  };
  [[nodiscard]] Subscription Subscribe(ServiceListener* listener);

  // OK once the service has at least one endpoint; DEADLINE_EXCEEDED after
  // `timeout` otherwise.
  [[nodiscard]] absl::Status WaitForEndpoints(absl::Duration timeout) const;

  [[nodiscard]] ServiceViewStats stats() const;
  // True when both handles follow the same view (a Resolver hands out one
  // view per service).
  [[nodiscard]] bool SameViewAs(const ServiceView& other) const { return core_ == other.core_; }

 private:
  friend class internal::BalancerCore;
  [[nodiscard]] internal::ViewCore& core() const { return *core_; }

  std::shared_ptr<internal::ViewCore> core_;
};

}  // namespace etcdgrpc::resolver
