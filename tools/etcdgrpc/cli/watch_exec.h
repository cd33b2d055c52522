// Running watch's "-- command" for each event as etcdctl does: the command
// with the tool's environment plus ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE,
// ETCD_WATCH_KEY and ETCD_WATCH_VALUE (Go-quoted), its output on ours.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "etcdgrpc/watch.h"

namespace etcdgrpc::cli {

// The four variables etcdctl adds, "NAME=value", in its order.
[[nodiscard]] std::vector<std::string> WatchEventEnvironment(int64_t revision, const Event& event);

// Runs `command` (looked up in $PATH) with the process's environment plus
// `extra_env`, stdin/stdout/stderr shared, and waits for it. The error is
// etcdctl's `command ["a" "b"] error (<Go's exec error>)`.
[[nodiscard]] absl::Status RunWatchCommand(const std::vector<std::string>& command,
                                           const std::vector<std::string>& extra_env);

}  // namespace etcdgrpc::cli
