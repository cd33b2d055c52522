#include "etcdgrpc/registry/registrar.h"

#include <utility>
#include <vector>

#include "common/clock.h"
#include "registry/internal/registrar_shared.h"
#include "registry/internal/registration_core.h"

namespace etcdgrpc::registry {

Registrar::Registrar(Client& client, RegistrarOptions options)
    : shared_(std::make_shared<internal::RegistrarShared>(client, std::move(options))) {}

Registrar::~Registrar() {
  // All at once, under one deadline: with etcd unreachable this returns
  // after about one request time-out whatever the number of registrations
  // (their leases then expire after their TTL).
  const absl::Time deadline = ::etcdgrpc::internal::MonoNow() + shared_->request_timeout();
  std::vector<std::pair<std::shared_ptr<internal::RegistrationCore>,
                        std::shared_ptr<internal::RegistrationCore::Teardown>>>
      teardowns;
  for (auto& core : shared_->TakeLive()) {
    auto teardown = core->BeginDeregister(deadline);
    if (teardown != nullptr) teardowns.emplace_back(std::move(core), std::move(teardown));
  }
  for (const auto& [core, teardown] : teardowns) (void)core->FinishDeregister(teardown);
  // Retries still scheduled are dropped; registrations that outlive this
  // object are deregistered already and do nothing more.
  shared_->Shutdown();
}

absl::StatusOr<Registration> Registrar::Register(ServiceInstance instance,
                                                 RegistrationListener* listener,
                                                 const RegisterOptions& options) {
  return internal::RegisterWith(shared_, std::move(instance), listener, options);
}

namespace internal {

absl::StatusOr<Registration> RegisterWith(const std::shared_ptr<RegistrarShared>& shared,
                                          ServiceInstance instance, RegistrationListener* listener,
                                          const RegisterOptions& options) {
  if (!shared->options_status().ok()) return shared->options_status();
  if (shared->shut_down()) {
    return absl::FailedPreconditionError("the registrar was destroyed: nothing can be registered");
  }
  // Checked before the key is built: the key is made of these fields.
  if (absl::Status s = ValidateInstance(instance); !s.ok()) return s;
  std::string key = shared->KeyOf(instance);
  auto core =
      std::make_shared<RegistrationCore>(shared, std::move(instance), std::move(key), listener);
  if (absl::Status s = core->Start(options.replace); !s.ok()) return s;
  shared->Track(core);
  return Registration(std::move(core));
}

}  // namespace internal

std::string Registrar::KeyOf(const ServiceInstance& instance) const {
  return shared_->KeyOf(instance);
}

const std::string& Registrar::prefix() const { return shared_->prefix(); }

const Codec& Registrar::codec() const { return shared_->codec(); }

}  // namespace etcdgrpc::registry
