#include "etcdgrpc/registry/registration.h"

#include <utility>

#include "registry/internal/registration_core.h"

namespace etcdgrpc::registry {

std::string_view RegistrationStateName(RegistrationState state) {
  switch (state) {
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kLost:
      return "lost";
    case RegistrationState::kReregistered:
      return "reregistered";
    case RegistrationState::kDeregistered:
      return "deregistered";
  }
  return "unknown";
}

Registration::Registration(std::shared_ptr<internal::RegistrationCore> core)
    : core_(std::move(core)) {}

Registration::Registration(Registration&& other) noexcept : core_(std::move(other.core_)) {}

Registration& Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    if (core_ != nullptr) (void)core_->Deregister();
    core_ = std::move(other.core_);
  }
  return *this;
}

Registration::~Registration() {
  if (core_ != nullptr) (void)core_->Deregister();
}

absl::Status Registration::Update(std::map<std::string, std::string> metadata) {
  if (core_ == nullptr) return absl::FailedPreconditionError("empty Registration handle");
  return core_->Update(std::move(metadata));
}

absl::Status Registration::Deregister() {
  if (core_ == nullptr) return absl::OkStatus();
  return core_->Deregister();
}

RegistrationState Registration::state() const {
  return core_ != nullptr ? core_->state() : RegistrationState::kDeregistered;
}

std::string Registration::key() const { return core_ != nullptr ? core_->key() : std::string(); }

int64_t Registration::lease_id() const { return core_ != nullptr ? core_->lease_id() : 0; }

absl::Duration Registration::ttl() const {
  return core_ != nullptr ? core_->ttl() : absl::ZeroDuration();
}

ServiceInstance Registration::instance() const {
  return core_ != nullptr ? core_->instance() : ServiceInstance{};
}

}  // namespace etcdgrpc::registry
