// ProcStatFields and ProcessCpuMicros (proc_stat.h).
#include "proc_stat.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace etcdgrpc::testing {

std::optional<std::vector<std::string>> ProcStatFields(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(line).substr(paren + 1), ' ', absl::SkipEmpty());
  if (fields.empty()) return std::nullopt;
  return fields;
}

int64_t ProcessCpuMicros(pid_t pid) {
  const std::optional<std::vector<std::string>> fields = ProcStatFields(pid);
  int64_t utime = 0;
  int64_t stime = 0;
  if (!fields.has_value() || fields->size() < 13 || !absl::SimpleAtoi((*fields)[11], &utime) ||
      !absl::SimpleAtoi((*fields)[12], &stime)) {
    return -1;
  }
  static const int64_t ticks = sysconf(_SC_CLK_TCK);
  return (utime + stime) * 1000000 / ticks;
}

}  // namespace etcdgrpc::testing
