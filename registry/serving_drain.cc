// ServingRegistration::Drain, the graceful shutdown: NOT_SERVING, deregister,
// wait until the removal has propagated, a grace, then the server's
// Shutdown with a deadline; and the report of what each step did.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "etcdgrpc/registry/serving.h"
#include "grpcpp/server.h"
#include "registry/internal/propagation.h"
#include "registry/internal/serving_state.h"

namespace etcdgrpc::registry {
namespace {

using ::etcdgrpc::internal::MonoNow;

std::string Ms(absl::Duration duration) {
  return absl::FormatDuration(absl::Trunc(duration, absl::Milliseconds(1)));
}

std::string Describe(const char* name, const DrainStep& step) {
  return absl::StrCat(name, " ", step.status.ok() ? "ok" : step.status.ToString(), " ",
                      Ms(step.took));
}

}  // namespace

absl::Status DrainReport::status() const {
  for (const DrainStep* step : {&not_serving, &deregister, &propagate, &grace, &shutdown}) {
    if (!step->status.ok()) return step->status;
  }
  return absl::OkStatus();
}

std::string DrainReport::ToString() const {
  return absl::StrCat(Describe("not-serving", not_serving), "; ",
                      Describe("deregister", deregister), "; ", Describe("propagate", propagate),
                      " (", members_applied, "/", members, " members applied, ",
                      members_unreachable, " unreachable); ", Describe("grace", grace), "; ",
                      Describe("shutdown", shutdown), "; total ", Ms(total));
}

DrainReport ServingRegistration::Drain(const DrainOptions& options) {
  DrainReport report;
  const absl::Time start = MonoNow();
  if (state_ == nullptr) {
    report.not_serving.status = absl::FailedPreconditionError("an empty ServingRegistration");
    return report;
  }
  internal::ServingState& state = *state_;
  auto timed = [](DrainStep& step, auto&& body) {
    const absl::Time step_start = MonoNow();
    step.status = body();
    step.took = MonoNow() - step_start;
  };
  {
    internal::OperationScope op(state);
    if (!op.status().ok()) {
      report.not_serving.status = op.status();
      return report;
    }
    bool already_ended = false;
    // Under `ops` (the OperationScope), which the analysis cannot see inside
    // the lambdas.
    timed(report.not_serving, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      already_ended = state.EndHealth();
      return absl::OkStatus();
    });
    timed(report.deregister,
          [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return state.EndRecord(already_ended); });
  }
  // The listener's last call, made once `ops` is let go.
  const absl::Time telling = MonoNow();
  state.TellAll();
  report.deregister.took += MonoNow() - telling;
  timed(report.propagate, [&] {
    if (!report.deregister.status.ok()) {
      return absl::FailedPreconditionError(
          "not waited for: the key was not deleted (it goes when its lease expires)");
    }
    internal::Propagation propagation = internal::WaitUntilApplied(
        state.registrar->client(), state.key, MonoNow() + options.propagation_timeout);
    report.members = propagation.members;
    report.members_applied = propagation.applied;
    report.members_unreachable = propagation.unreachable;
    return propagation.status;
  });
  timed(report.grace, [&] {
    absl::SleepFor(options.grace);
    return absl::OkStatus();
  });
  timed(report.shutdown, [&] {
    if (options.shutdown_server) {
      state.server->Shutdown(absl::ToChronoTime(absl::Now() + options.shutdown_deadline));
    }
    return absl::OkStatus();
  });
  report.total = MonoNow() - start;
  return report;
}

}  // namespace etcdgrpc::registry
