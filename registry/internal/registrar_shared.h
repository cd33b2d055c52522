// What a Registrar's registrations share and may outlive the Registrar
// object with: the client (a Client::Share() handle, so that any destruction
// order is safe), the resolved options (prefix, codec, TTL), the background
// scheduler, the listener runner, the retry delays, and the list of live
// registrations the Registrar deregisters when it goes away.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/listener_runner.h"
#include "common/mutex.h"
#include "common/scheduler.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/registrar.h"

namespace etcdgrpc::registry::internal {

using ::etcdgrpc::internal::ListenerRunner;
using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;
using ::etcdgrpc::internal::Scheduler;

class RegistrationCore;

class RegistrarShared {
 public:
  RegistrarShared(Client& client, RegistrarOptions options);
  ~RegistrarShared();

  // Works while the Client lives; afterwards every call fails with
  // CANCELLED "the client was closed".
  Client& client() { return *client_; }
  // The Client was destroyed: nothing can be written or kept any more.
  bool client_closed() const { return client_->closed(); }
  const Codec& codec() const { return *codec_; }
  const std::string& prefix() const { return prefix_; }
  const RegistrarOptions& options() const { return options_; }
  Scheduler& scheduler() { return scheduler_; }
  // Where listener calls run (see listener_runner.h).
  ListenerRunner& listeners() { return *listeners_; }
  // Stops the scheduler (retries still planned are dropped) and the
  // listener runner. Idempotent.
  void Shutdown();
  // Shutdown() ran: the Registrar is gone, nothing may be registered.
  bool shut_down() const { return shut_down_.load(std::memory_order_acquire); }
  // InvalidArgument when the options cannot work (TTL below 1 s, bad backoff).
  const absl::Status& options_status() const { return options_status_; }
  // The TTL asked for in whole seconds.
  int64_t ttl_seconds() const { return ttl_seconds_; }
  // Bounds Deregister and the wait for an attempt in flight.
  absl::Duration request_timeout() const { return client_->options().request_timeout; }

  std::string KeyOf(const ServiceInstance& instance) const;
  // Where `instance` is written with `lease_id` (KeyOf() unless the codec's
  // key names the lease).
  std::string KeyFor(const ServiceInstance& instance, int64_t lease_id) const;
  // The longest key `instance` can have: KeyFor() with the largest lease id
  // (for checking the request size before a lease is granted).
  std::string LongestKey(const ServiceInstance& instance) const;
  // Checks the instance (generic and codec rules) and encodes it; refuses a
  // value that would make the registration Txn exceed max_request_bytes.
  absl::StatusOr<std::string> Encode(const ServiceInstance& instance, const std::string& key) const;
  // The jittered delay before retry number `attempt` (0-based).
  absl::Duration RetryDelay(int attempt);
  // True when `value`, found at `key`, decodes (with this codec) to an
  // instance at `instance`'s address, byte for byte: the same instance,
  // restarted.
  bool SameAddress(const ServiceInstance& instance, const std::string& key,
                   const std::string& value) const;

  void Track(const std::shared_ptr<RegistrationCore>& core);
  void Forget(const RegistrationCore* core);
  // The registrations still tracked; the list is emptied.
  std::vector<std::shared_ptr<RegistrationCore>> TakeLive();

 private:
  const std::shared_ptr<Client> client_;
  const RegistrarOptions options_;
  const std::shared_ptr<const Codec> codec_;
  const std::string prefix_;
  const absl::Status options_status_;
  const int64_t ttl_seconds_;
  Scheduler scheduler_;
  const std::shared_ptr<ListenerRunner> listeners_;
  std::atomic<bool> shut_down_{false};

  Mutex mu_;
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const RegistrationCore*, std::weak_ptr<RegistrationCore>> live_
      ABSL_GUARDED_BY(mu_);
};

// Registrar::Register on the shared state, which a ServingRegistration
// keeps to register again after a NOT_SERVING removal (registrar.cc).
absl::StatusOr<Registration> RegisterWith(const std::shared_ptr<RegistrarShared>& shared,
                                          ServiceInstance instance, RegistrationListener* listener,
                                          const RegisterOptions& options);

}  // namespace etcdgrpc::registry::internal
