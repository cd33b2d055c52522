// Reading another process's /proc/<pid>/stat: LocalEtcd's stopped-or-not check and the
// benchmarks' sample of etcd's CPU.
#ifndef ETCDGRPC_TESTS_SUPPORT_PROC_STAT_H_
#define ETCDGRPC_TESTS_SUPPORT_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdgrpc::testing {

// The fields of /proc/<pid>/stat after the command name (which is in parentheses and may
// hold spaces): [0] is field 3 (the state letter), [11] and [12] fields 14 and 15 (utime and
// stime in clock ticks). Nothing if the process is gone or the line cannot be read.
[[nodiscard]] std::optional<std::vector<std::string>> ProcStatFields(pid_t pid);

// utime + stime of `pid` in microseconds; -1 if unreadable.
[[nodiscard]] int64_t ProcessCpuMicros(pid_t pid);

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_PROC_STAT_H_
