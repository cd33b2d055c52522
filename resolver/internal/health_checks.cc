#include "resolver/internal/health_checks.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "resolver/internal/view_core.h"

namespace etcdgrpc::resolver::internal {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

namespace {

EndpointHealth FromResponse(const HealthCheckResponse& response) {
  switch (response.status()) {
    case HealthCheckResponse::SERVING:
      return EndpointHealth::kServing;
    case HealthCheckResponse::SERVICE_UNKNOWN:
      return EndpointHealth::kServiceUnknown;
    default:  // NOT_SERVING, UNKNOWN: anything but SERVING is not healthy (as in gRPC)
      return EndpointHealth::kNotServing;
  }
}

}  // namespace

// One endpoint's check: the Watch stream (or the Check polls), restarted
// until Stop(). Shared with its calls and scheduled tasks, which may outlive
// the HealthCheck handle by one callback.
class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  HealthChecker(std::weak_ptr<HealthChecks> pool, std::shared_ptr<ChannelEntry> entry,
                std::string service, std::string check_name, std::weak_ptr<ViewCore> view,
                HealthGauges gauges)
      : pool_(std::move(pool)),
        entry_(std::move(entry)),
        service_(std::move(service)),
        check_name_(std::move(check_name)),
        view_(std::move(view)),
        stub_(Health::NewStub(entry_->channel())),
        gauges_(gauges) {}

  void Start() { StartWatch(); }
  void Stop() {
    MutexLock lock(&mu_);
    stopped_ = true;
    if (current_ != nullptr) current_->TryCancel();
    ShowLocked(
        status.exchange(static_cast<uint8_t>(EndpointHealth::kUnknown), std::memory_order_relaxed),
        static_cast<uint8_t>(EndpointHealth::kUnknown));
  }

  std::atomic<uint8_t> status{static_cast<uint8_t>(EndpointHealth::kUnknown)};

 private:
  class WatchCall : public grpc::ClientReadReactor<HealthCheckResponse> {
   public:
    explicit WatchCall(std::shared_ptr<HealthChecker> checker) : checker_(std::move(checker)) {
      request_.set_service(checker_->check_name_);
      // A server that is down is waited for (gRPC reconnects with the
      // channel's backoff) rather than asked again in a loop.
      context_.set_wait_for_ready(true);
    }
    grpc::ClientContext* context() { return &context_; }
    void Begin() {
      checker_->stub_->async()->Watch(&context_, &request_, this);
      StartRead(&response_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;  // OnDone follows
      checker_->Heard(FromResponse(response_));
      StartRead(&response_);
    }
    void OnDone(const grpc::Status& status) override {
      checker_->WatchEnded(this, status);
      delete this;
    }

   private:
    const std::shared_ptr<HealthChecker> checker_;
    grpc::ClientContext context_;
    HealthCheckRequest request_;
    HealthCheckResponse response_;
  };

  struct CheckCall {
    grpc::ClientContext context;
    HealthCheckRequest request;
    HealthCheckResponse response;
  };

  void StartWatch() {
    auto* call = new WatchCall(shared_from_this());
    {
      MutexLock lock(&mu_);
      if (stopped_) {
        delete call;
        return;
      }
      current_ = call->context();
    }
    call->Begin();
  }

  void Heard(EndpointHealth health) {
    {
      MutexLock lock(&mu_);
      failures_ = 0;
    }
    Set(health);
  }

  void Set(EndpointHealth health) {
    const auto value = static_cast<uint8_t>(health);
    uint8_t before;
    {
      // After Stop() the status stays kUnknown, whatever a late callback heard.
      MutexLock lock(&mu_);
      if (stopped_) return;
      before = status.exchange(value, std::memory_order_relaxed);
      ShowLocked(before, value);
    }
    if (before == value || health != EndpointHealth::kServiceUnknown) return;
    Report(absl::NotFoundError(
        absl::StrCat("endpoint ", entry_->address, " of service \"", service_,
                     "\" does not know the health-check service \"", check_name_,
                     "\" (SERVICE_UNKNOWN); picks skip it until it reports SERVING")));
  }

  // Moves the state gauges' 1 from `before` to `now` (under mu_, so that they follow the
  // status in order).
  void ShowLocked(uint8_t before, uint8_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (before == now) return;
    if (before < gauges_.size()) gauges_[before].Set(0);
    if (now < gauges_.size()) gauges_[now].Set(1);
  }

  void Report(const absl::Status& problem) {
    if (auto view = view_.lock()) view->ReportProblem(problem);
  }

  void WatchEnded(WatchCall* call, const grpc::Status& status_of_call) {
    absl::Duration delay;
    {
      MutexLock lock(&mu_);
      if (current_ == call->context()) current_ = nullptr;
      if (stopped_) return;
      if (status_of_call.error_code() != grpc::StatusCode::UNIMPLEMENTED) {
        delay = RetryDelay(failures_++);
      }
    }
    if (status_of_call.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      Report(absl::UnimplementedError(
          absl::StrCat("endpoint ", entry_->address, " of service \"", service_,
                       "\" does not implement grpc.health.v1.Health/Watch; polling Check every ",
                       absl::FormatDuration(Interval()))));
      return Poll();
    }
    // The server went away (or its health service failed): skipped until
    // it answers again.
    Set(EndpointHealth::kUnreachable);
    After(delay, [](HealthChecker& checker) { checker.StartWatch(); });
  }

  void Poll() {
    auto call = std::make_shared<CheckCall>();
    call->request.set_service(check_name_);
    call->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(Interval()));
    {
      MutexLock lock(&mu_);
      if (stopped_) return;
      current_ = &call->context;
    }
    stub_->async()->Check(&call->context, &call->request, &call->response,
                          [self = shared_from_this(), call](const grpc::Status& result) {
                            self->CheckDone(*call, result);
                          });
  }

  void CheckDone(CheckCall& call, const grpc::Status& result) {
    {
      MutexLock lock(&mu_);
      if (current_ == &call.context) current_ = nullptr;
      if (stopped_) return;
    }
    switch (result.error_code()) {
      case grpc::StatusCode::OK:
        Set(FromResponse(call.response));
        break;
      case grpc::StatusCode::NOT_FOUND:  // Check's answer for an unknown name
        Set(EndpointHealth::kServiceUnknown);
        break;
      case grpc::StatusCode::UNIMPLEMENTED:
        // No health service at all: not checked (as gRPC does), said once.
        if (!said_unimplemented_.exchange(true)) {
          Report(absl::UnimplementedError(
              absl::StrCat("endpoint ", entry_->address, " of service \"", service_,
                           "\" offers no grpc.health.v1.Health service; its health is not "
                           "checked")));
        }
        Set(EndpointHealth::kUnknown);
        break;
      default:
        Set(EndpointHealth::kUnreachable);
        break;
    }
    After(Interval(), [](HealthChecker& checker) { checker.Poll(); });
  }

  template <class F>
  void After(absl::Duration delay, F f) {
    std::shared_ptr<HealthChecks> pool = pool_.lock();
    if (pool == nullptr) return;
    std::weak_ptr<HealthChecker> weak = weak_from_this();
    (void)pool->PostAfter(delay, [weak, f] {
      if (auto checker = weak.lock()) f(*checker);
    });
  }

  absl::Duration Interval() const {
    std::shared_ptr<HealthChecks> pool = pool_.lock();
    return pool != nullptr ? pool->check_interval() : absl::Seconds(1);
  }

  static absl::Duration RetryDelay(int failures) {
    static constexpr BackoffOptions kOptions{
        .initial = absl::Milliseconds(100), .max = absl::Seconds(1), .multiplier = 2.0};
    return ::etcdgrpc::internal::Backoff::DelayWithoutJitter(kOptions, failures);
  }

  const std::weak_ptr<HealthChecks> pool_;
  const std::shared_ptr<ChannelEntry> entry_;
  const std::string service_;
  const std::string check_name_;
  const std::weak_ptr<ViewCore> view_;
  const std::unique_ptr<Health::Stub> stub_;
  std::atomic<bool> said_unimplemented_{false};
  Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // By EndpointHealth (null handles when metrics are off).
  const HealthGauges gauges_;
  // The call in progress, cancelled by Stop().
  grpc::ClientContext* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

HealthCheck::HealthCheck(std::shared_ptr<HealthChecker> checker) : checker_(std::move(checker)) {}
HealthCheck::~HealthCheck() { checker_->Stop(); }
const std::atomic<uint8_t>& HealthCheck::status() const { return checker_->status; }

HealthChecks::HealthChecks(Scheduler* scheduler, absl::Duration check_interval,
                           std::shared_ptr<ResolverMetrics> metrics)
    : check_interval_(check_interval), metrics_(std::move(metrics)), scheduler_(scheduler) {}

std::shared_ptr<HealthCheck> HealthChecks::Get(const std::string& service,
                                               const std::shared_ptr<ChannelEntry>& entry,
                                               const std::string& check_name,
                                               const std::weak_ptr<ViewCore>& view) {
  std::shared_ptr<HealthCheck> check;
  std::shared_ptr<HealthChecker> checker;
  {
    MutexLock lock(&mu_);
    if (scheduler_ == nullptr) return nullptr;
    std::weak_ptr<HealthCheck>& weak = checks_[absl::StrCat(
        service, std::string(1, '\0'), entry->address, std::string(1, '\0'), check_name)];
    if ((check = weak.lock()) != nullptr) return check;
    checker = std::make_shared<HealthChecker>(
        weak_from_this(), entry, service, check_name, view,
        metrics_ != nullptr ? metrics_->Health(service, entry->address) : HealthGauges{});
    check = std::make_shared<HealthCheck>(checker);
    weak = check;
    // Forget the checks that ended.
    for (auto it = checks_.begin(); it != checks_.end();) {
      it = it->second.expired() ? checks_.erase(it) : std::next(it);
    }
    std::erase_if(checkers_, [](const std::weak_ptr<HealthChecker>& c) { return c.expired(); });
    checkers_.push_back(checker);
  }
  checker->Start();  // outside the lock: a callback may run at once
  return check;
}

void HealthChecks::Shutdown() {
  std::vector<std::shared_ptr<HealthChecker>> alive;
  {
    MutexLock lock(&mu_);
    scheduler_ = nullptr;
    for (const auto& weak : checkers_) {
      if (auto checker = weak.lock()) alive.push_back(std::move(checker));
    }
    checkers_.clear();
  }
  for (const auto& checker : alive) checker->Stop();
}

bool HealthChecks::PostAfter(absl::Duration delay, Scheduler::Task task) {
  MutexLock lock(&mu_);
  if (scheduler_ == nullptr) return false;
  scheduler_->PostAfter(delay, std::move(task));
  return true;
}

}  // namespace etcdgrpc::resolver::internal
