// The state behind a BalancingChannel: follows the service's view and, for
// each change of its address list, makes a grpc::Channel over the new
// target and publishes it; the one it replaces is released here after
// ChannelOptions::retire_delay (stubs and calls still holding it keep it
// until they are done).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "etcdgrpc/resolver/balancing_channel.h"
#include "etcdgrpc/resolver/service_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace etcdgrpc::resolver::internal {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;
using ::etcdgrpc::internal::Scheduler;

class ChannelCore {
 public:
  // `arguments` carry the service config already. `scheduler` releases the
  // replaced channels; it is used only from updates, which end before the
  // resolver stops it (a release still queued then happens at its Shutdown).
  ChannelCore(std::string service, std::shared_ptr<grpc::ChannelCredentials> credentials,
              const grpc::ChannelArguments& arguments, absl::Duration retire_delay,
              Scheduler* scheduler);
  ~ChannelCore();
  ChannelCore(const ChannelCore&) = delete;
  ChannelCore& operator=(const ChannelCore&) = delete;

  // Follows `view`; the first channel is built before this returns.
  void Attach(std::shared_ptr<ServiceView> view);

  [[nodiscard]] const std::string& service() const { return service_; }
  [[nodiscard]] std::shared_ptr<grpc::Channel> get() const;
  [[nodiscard]] absl::Status status() const;
  [[nodiscard]] std::string target() const;
  [[nodiscard]] BalancingChannelStats stats() const;
  [[nodiscard]] absl::Status WaitForEndpoints(absl::Duration timeout) const;

 private:
  // Runs on the resolver's listener thread (and inside Subscribe()), never
  // on the watch stream's: the channel a rebuild releases may be the last
  // reference, and freeing a channel must not run on a gRPC thread.
  void Update(const EndpointSet& set);
  // A channel whose every call fails with `status` at once.
  static std::shared_ptr<grpc::Channel> FailingChannel(const absl::Status& status);

  class Adapter : public ServiceListener {
   public:
    explicit Adapter(ChannelCore* core) : core_(core) {}
    void OnUpdate(const EndpointSet& endpoints, const EndpointChanges&) override {
      core_->Update(endpoints);
    }

   private:
    ChannelCore* core_;
  };

  const std::string service_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const grpc::ChannelArguments arguments_;
  const absl::Duration retire_delay_;
  Scheduler* const scheduler_;

  mutable Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::string target_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> left_out_ ABSL_GUARDED_BY(mu_);
  bool built_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration rebuild_time_ ABSL_GUARDED_BY(mu_);

  // Declared last: the subscription ends (in the destructor) before the
  // state its calls touch goes away.
  Adapter adapter_{this};
  std::shared_ptr<ServiceView> view_;
  ServiceView::Subscription subscription_;
};

}  // namespace etcdgrpc::resolver::internal
