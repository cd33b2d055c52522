// ServingRegistration: the health statuses and the registry record set
// together (registration and SetServing; the drain is in serving_drain.cc).
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/listener_call.h"
#include "etcdgrpc/registry/serving.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_initializer.h"
#include "grpcpp/server.h"
#include "registry/internal/serving_state.h"

namespace etcdgrpc::registry {
namespace internal {
namespace {

constexpr char kHealthService[] = "grpc.health.v1.Health";

// The ServingState whose user listener this thread is calling.
thread_local const ServingState* listener_call_of = nullptr;

}  // namespace

void ForwardingListener::OnStateChange(const RegistrationEvent& event) {
  if (event.state == RegistrationState::kDeregistered &&
      withdrawn_.load(std::memory_order_acquire)) {
    return;
  }
  RegistrationEvent told = event;
  if (event.state == RegistrationState::kRegistered && restored_) {
    told.state = RegistrationState::kReregistered;
  }
  if (absl::Status threw = state_->Tell(std::move(told)); !threw.ok()) {
    // As if the listener had thrown at the registration: it ends it.
    throw std::runtime_error(std::string(threw.message()));
  }
}

absl::Status ServingState::Tell(RegistrationEvent event) {
  if (user_listener == nullptr) return absl::OkStatus();
  {
    MutexLock lock(&listener_mu);
    told.push_back(std::move(event));
  }
  // The holder of `ops` makes it once it has let go (~OperationScope).
  if (op_thread.load(std::memory_order_acquire) == std::this_thread::get_id()) {
    return absl::OkStatus();
  }
  return TellQueued();
}

absl::Status ServingState::TellQueued() {
  {
    MutexLock lock(&listener_mu);
    if (telling) return absl::OkStatus();
    telling = true;
  }
  absl::Status threw;
  while (true) {
    RegistrationEvent event;
    {
      MutexLock lock(&listener_mu);
      if (told.empty() || !threw.ok()) {
        telling = false;
        told_all.Notify();
        return threw;
      }
      event = std::move(told.front());
      told.pop_front();
    }
    const ServingState* outer = std::exchange(listener_call_of, this);
    threw = etcdgrpc::internal::CallListener("registration listener",
                                             [&] { user_listener->OnStateChange(event); });
    listener_call_of = outer;
  }
}

void ServingState::TellAll() {
  while (true) {
    (void)TellQueued();
    MutexLock lock(&listener_mu);
    told_all.Wait(listener_mu, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !telling; });
    if (told.empty()) return;
  }
}

bool ServingState::InListenerCall() const { return listener_call_of == this; }

absl::Status CheckMarkSurvives(const RegistrarShared& registrar, const ServiceInstance& instance) {
  const std::string key = registrar.KeyFor(instance, 1);
  // An instance the registrar refuses anyway gets its own error from Register.
  if (!registrar.Encode(instance, key).ok()) return absl::OkStatus();
  ServiceInstance marked = instance;
  marked.metadata[std::string(kHealthMetadataKey)] = std::string(kNotServingValue);
  std::string lost;
  if (absl::StatusOr<std::string> value = registrar.Encode(marked, key); !value.ok()) {
    lost = absl::StrCat("it refuses a marked instance: ", value.status().message());
  } else if (absl::StatusOr<ServiceInstance> decoded =
                 registrar.codec().Decode(marked.service, key, *value);
             !decoded.ok()) {
    lost = absl::StrCat("it cannot read a marked instance back: ", decoded.status().message());
  } else if (auto found = decoded->metadata.find(std::string(kHealthMetadataKey));
             found == decoded->metadata.end() || found->second != kNotServingValue) {
    lost = "it does not keep metadata";
  } else {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "NotServingAction::kMark cannot mark a record of the ", std::string(registrar.codec().name()),
      " codec with ", std::string(kHealthMetadataKey), "=", std::string(kNotServingValue), " (",
      lost, "): use NotServingAction::kRemove"));
}

absl::StatusOr<std::vector<std::string>> ResolveHealthServices(
    grpc::Server& server, const std::vector<std::string>& wanted) {
  // The names the server registered, from the list gRPC's reflection plugin
  // reads: grpc::Server has no other public way to tell them.
  grpc::ServerInitializer initializer(&server);
  const std::vector<std::string>& served = *initializer.GetServiceList();
  std::vector<std::string> names;
  if (wanted.empty()) {
    names.emplace_back();
    for (const std::string& name : served) {
      if (name != kHealthService) names.push_back(name);
    }
    return names;
  }
  for (const std::string& name : wanted) {
    if (!name.empty() && std::find(served.begin(), served.end(), name) == served.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "health service \"", name, "\" is not served by this gRPC server (it serves: ",
          served.empty() ? "nothing" : absl::StrJoin(served, ", "),
          "; \"\" stands for the whole server)"));
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

OperationScope::OperationScope(ServingState& state) ABSL_NO_THREAD_SAFETY_ANALYSIS : state_(state) {
  if (state_.InListenerCall() ||
      state_.op_thread.load(std::memory_order_acquire) == std::this_thread::get_id()) {
    status_ = absl::FailedPreconditionError(absl::StrCat(
        "the registration of ", state_.key,
        " cannot be changed from its own listener call (SetServing, Update, Drain, Deregister)"));
    return;
  }
  state_.ops.Lock();
  locked_ = true;
  state_.op_thread.store(std::this_thread::get_id(), std::memory_order_release);
}

OperationScope::~OperationScope() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (!locked_) return;
  state_.op_thread.store(std::thread::id(), std::memory_order_release);
  state_.ops.Unlock();
  // The calls this operation caused, now that nothing is held.
  (void)state_.TellQueued();
}

ServiceInstance ServingState::Written() const {
  ServiceInstance written = instance;
  if (action == NotServingAction::kMark && !serving) {
    written.metadata[std::string(kHealthMetadataKey)] = std::string(kNotServingValue);
  }
  return written;
}

Registration* ServingState::Current() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // Only holders of `ops` replace it, and the caller holds `ops`.
  return &registration;
}

absl::Status ServingState::Register(bool restored) {
  ServiceInstance written;
  {
    MutexLock lock(&mu);
    written = Written();
  }
  auto next = std::make_unique<ForwardingListener>(this, restored);
  absl::StatusOr<Registration> registered =
      RegisterWith(registrar, std::move(written), next.get(), register_options);
  if (!registered.ok()) return registered.status();
  {
    MutexLock lock(&mu);
    registration = *std::move(registered);
  }
  previous_forwarder = std::move(forwarder);
  forwarder = std::move(next);
  return absl::OkStatus();
}

absl::Status ServingState::Remove(bool end) {
  if (!Current()->valid()) return absl::OkStatus();
  if (!end && forwarder != nullptr) forwarder->Withdraw();
  // Outside `mu`: the listener hears kDeregistered on this thread and may
  // call the accessors.
  absl::Status status = Current()->Deregister();
  Registration removed;
  {
    MutexLock lock(&mu);
    removed = std::move(registration);
  }
  return status;
}

bool ServingState::EndHealth() {
  bool already_ended = false;
  {
    MutexLock lock(&mu);
    already_ended = std::exchange(ended, true);
    serving = false;
  }
  // Once ended, the server may be gone (Drain shut it down).
  if (!already_ended) SetHealth(false);
  return already_ended;
}

absl::Status ServingState::EndRecord(bool already_ended) {
  if (already_ended) return absl::OkStatus();
  if (Current()->valid()) return Remove(/*end=*/true);
  // Removed earlier by NOT_SERVING: the listener's last call is still due.
  return Tell({.state = RegistrationState::kDeregistered,
               .reason = absl::OkStatus(),
               .lease_id = 0,
               .ttl = absl::ZeroDuration()});
}

void ServingState::SetHealth(bool serving_now) const {
  for (const std::string& name : health_services) health->SetServingStatus(name, serving_now);
}

std::vector<bool> ServingState::ReadHealth() const {
  // HealthCheckServiceInterface can only set: ask the server's own health
  // service, in process.
  auto stub = grpc::health::v1::Health::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  std::vector<bool> statuses;
  statuses.reserve(health_services.size());
  for (const std::string& name : health_services) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    // Not found (a service never set) reads as NOT_SERVING, as clients do.
    statuses.push_back(status.ok() &&
                       response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  }
  return statuses;
}

void ServingState::RestoreHealth(const std::vector<bool>& statuses) const {
  for (size_t i = 0; i < health_services.size() && i < statuses.size(); ++i) {
    health->SetServingStatus(health_services[i], statuses[i]);
  }
}

}  // namespace internal

absl::StatusOr<ServingRegistration> ServingRegistration::Register(
    Registrar& registrar, grpc::Server* server, ServiceInstance instance,
    const ServingOptions& options, RegistrationListener* listener,
    const RegisterOptions& register_options) {
  if (server == nullptr) {
    return absl::InvalidArgumentError("ServingRegistration needs a gRPC server, got null");
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) {
    return absl::FailedPreconditionError(
        "the gRPC server has no health service: call grpc::EnableDefaultHealthCheckService(true) "
        "before building it");
  }
  absl::StatusOr<std::vector<std::string>> names =
      internal::ResolveHealthServices(*server, options.health_services);
  if (!names.ok()) return names.status();

  if (options.not_serving == NotServingAction::kMark) {
    if (absl::Status s = internal::CheckMarkSurvives(*registrar.shared_, instance); !s.ok()) {
      return s;
    }
  }

  auto state = std::make_shared<internal::ServingState>();
  state->registrar = registrar.shared_;
  state->server = server;
  state->health = health;
  state->health_services = *std::move(names);
  state->action = options.not_serving;
  state->user_listener = listener;
  state->register_options = register_options;
  state->key = registrar.KeyOf(instance);
  {
    internal::MutexLock lock(&state->mu);
    state->serving = options.serving;
    state->instance = std::move(instance);
  }
  internal::OperationScope op(*state);
  // Health first: a client checking health stops (or starts) before the
  // record says so. A failed registration leaves the server as it was.
  const std::vector<bool> health_before = state->ReadHealth();
  state->SetHealth(options.serving);
  if (options.serving || options.not_serving == NotServingAction::kMark) {
    if (absl::Status s = state->Register(/*restored=*/false); !s.ok()) {
      state->RestoreHealth(health_before);
      return s;
    }
  }
  return ServingRegistration(std::move(state));
}

ServingRegistration::ServingRegistration() = default;
ServingRegistration::ServingRegistration(std::shared_ptr<internal::ServingState> state)
    : state_(std::move(state)) {}
ServingRegistration::ServingRegistration(ServingRegistration&&) noexcept = default;

ServingRegistration& ServingRegistration::operator=(ServingRegistration&& other) noexcept {
  if (this != &other) {
    (void)Deregister();
    state_ = std::move(other.state_);
  }
  return *this;
}

ServingRegistration::~ServingRegistration() { (void)Deregister(); }

absl::Status ServingRegistration::SetServing(bool serving) {
  if (state_ == nullptr) return absl::FailedPreconditionError("an empty ServingRegistration");
  internal::OperationScope op(*state_);
  if (!op.status().ok()) return op.status();
  std::map<std::string, std::string> written_metadata;
  {
    internal::MutexLock lock(&state_->mu);
    if (state_->ended) {
      return absl::FailedPreconditionError(
          absl::StrCat("the registration of ", state_->key, " was drained or deregistered"));
    }
    state_->serving = serving;
    written_metadata = state_->Written().metadata;
  }
  state_->SetHealth(serving);
  Registration* current = state_->Current();
  if (state_->action == NotServingAction::kMark) {
    if (!current->valid()) return state_->Register(/*restored=*/true);
    // Written even when unchanged: retries an earlier failed Update.
    if (current->instance().metadata == written_metadata) return absl::OkStatus();
    return current->Update(std::move(written_metadata));
  }
  if (!serving) return state_->Remove(/*end=*/false);
  if (current->valid()) return absl::OkStatus();
  return state_->Register(/*restored=*/true);
}

bool ServingRegistration::serving() const {
  if (state_ == nullptr) return false;
  internal::MutexLock lock(&state_->mu);
  return state_->serving && !state_->ended;
}

absl::Status ServingRegistration::Update(std::map<std::string, std::string> metadata) {
  if (state_ == nullptr) return absl::FailedPreconditionError("an empty ServingRegistration");
  internal::OperationScope op(*state_);
  if (!op.status().ok()) return op.status();
  ServiceInstance before;
  std::map<std::string, std::string> written_metadata;
  {
    internal::MutexLock lock(&state_->mu);
    ServiceInstance next = state_->instance;
    next.metadata = std::move(metadata);
    if (absl::Status s = ValidateInstance(next); !s.ok()) return s;
    before = std::exchange(state_->instance, std::move(next));
    written_metadata = state_->Written().metadata;
  }
  Registration* current = state_->Current();
  if (!current->valid()) return absl::OkStatus();
  absl::Status status = current->Update(std::move(written_metadata));
  if (absl::IsInvalidArgument(status)) {
    // Refused before anything was written: keep what is written.
    internal::MutexLock lock(&state_->mu);
    state_->instance = std::move(before);
  }
  return status;
}

absl::Status ServingRegistration::Deregister() {
  if (state_ == nullptr) return absl::OkStatus();
  absl::Status status;
  {
    internal::OperationScope op(*state_);
    if (!op.status().ok()) return op.status();
    status = state_->EndRecord(state_->EndHealth());
  }
  // Returns after the listener's last call.
  state_->TellAll();
  return status;
}

RegistrationState ServingRegistration::state() const {
  if (state_ == nullptr) return RegistrationState::kDeregistered;
  internal::MutexLock lock(&state_->mu);
  return state_->registration.valid() ? state_->registration.state()
                                      : RegistrationState::kDeregistered;
}

std::string ServingRegistration::key() const { return state_ == nullptr ? "" : state_->key; }

int64_t ServingRegistration::lease_id() const {
  if (state_ == nullptr) return 0;
  internal::MutexLock lock(&state_->mu);
  return state_->registration.valid() ? state_->registration.lease_id() : 0;
}

ServiceInstance ServingRegistration::instance() const {
  if (state_ == nullptr) return {};
  internal::MutexLock lock(&state_->mu);
  return state_->registration.valid() ? state_->registration.instance() : state_->Written();
}

std::vector<std::string> ServingRegistration::health_services() const {
  return state_ == nullptr ? std::vector<std::string>{} : state_->health_services;
}

}  // namespace etcdgrpc::registry
