#include "internal/backoff.h"

#include <algorithm>
#include <cmath>

namespace etcdgrpc::internal {

absl::Duration Backoff::Next() {
  const double base = absl::ToDoubleSeconds(options_.initial) *
                      std::pow(std::max(options_.multiplier, 1.0), attempts_);
  const double capped = std::min(base, absl::ToDoubleSeconds(options_.max));
  if (capped < absl::ToDoubleSeconds(options_.max)) ++attempts_;
  const double jitter = std::clamp(options_.jitter, 0.0, 1.0);
  const double factor = jitter > 0 ? absl::Uniform(random_, 1.0 - jitter, 1.0 + jitter) : 1.0;
  return absl::Seconds(capped * factor);
}

}  // namespace etcdgrpc::internal
