// Go's time.Duration.String(), which etcdctl prints for `endpoint health`'s
// "took": "850µs", "1.234567ms", "2.5s", "1m2.5s".
#pragma once

#include <string>

#include "absl/time/time.h"

namespace etcdgrpc::cli {

[[nodiscard]] std::string GoDurationString(absl::Duration duration);

}  // namespace etcdgrpc::cli
