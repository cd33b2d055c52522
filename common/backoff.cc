#include "common/backoff.h"

#include <algorithm>
#include <cmath>

namespace etcdgrpc::internal {
namespace {

double CappedSeconds(const BackoffOptions& options, int attempt) {
  const double grown = absl::ToDoubleSeconds(options.initial) *
                       std::pow(std::max(options.multiplier, 1.0), std::min(attempt, 64));
  return std::min(grown, absl::ToDoubleSeconds(options.max));
}

}  // namespace

absl::Duration Backoff::Delay(const BackoffOptions& options, int attempt, absl::BitGenRef random) {
  const double capped = CappedSeconds(options, attempt);
  const double jitter = std::clamp(options.jitter, 0.0, 1.0);
  const double factor = jitter > 0 ? absl::Uniform(random, 1.0 - jitter, 1.0 + jitter) : 1.0;
  return absl::Seconds(capped * factor);
}

absl::Duration Backoff::DelayWithoutJitter(const BackoffOptions& options, int attempt) {
  return absl::Seconds(CappedSeconds(options, attempt));
}

absl::Duration Backoff::Next() {
  const absl::Duration delay = Delay(options_, attempts_, random_);
  // Stops growing once capped, so that the count cannot overflow.
  if (absl::Seconds(absl::ToDoubleSeconds(options_.initial) *
                    std::pow(std::max(options_.multiplier, 1.0), attempts_)) < options_.max) {
    ++attempts_;
  }
  return delay;
}

}  // namespace etcdgrpc::internal
