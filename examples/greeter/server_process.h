// A greeter_server child process of the demo: started with its flags, sent
// SIGTERM or SIGKILL, reaped with a bounded wait; killed if still running
// when destroyed, and by the kernel if the demo itself dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace greeter_demo {

class ServerProcess {
 public:
  // Runs `binary` with `args`; its output goes to the demo's stdout.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] bool started() const { return pid_ > 0; }
  void Signal(int signal_number);
  // True once the process exited (and was reaped) within `timeout`.
  bool WaitExit(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace greeter_demo
