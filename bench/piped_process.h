// A child process the bench drives by lines: its stdin and stdout are pipes
// (the concurrency helpers, the Go peer, the watch benchmarks' writer).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace etcdgrpc::bench {

class PipedProcess {
 public:
  // Starts argv[0] (a path) with `argv`. `what` names it in errors ("the Go
  // peer"). On destruction its stdin is closed, it has `exit_grace` to exit
  // (zero: none), then it is killed; it is always reaped.
  [[nodiscard]] static absl::StatusOr<PipedProcess> Spawn(std::vector<std::string> argv,
                                                          std::string what,
                                                          absl::Duration exit_grace);
  PipedProcess(PipedProcess&& other) noexcept;
  PipedProcess& operator=(PipedProcess&&) = delete;
  ~PipedProcess();

  [[nodiscard]] absl::Status WriteLine(absl::string_view line);
  // The next line of its stdout, within `timeout`.
  [[nodiscard]] absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Waits for it to exit (and reaps it): OK for exit status 0.
  [[nodiscard]] absl::Status Wait();

 private:
  PipedProcess(int pid, int in_fd, int out_fd, std::string what, absl::Duration exit_grace)
      : pid_(pid),
        in_fd_(in_fd),
        out_fd_(out_fd),
        what_(std::move(what)),
        exit_grace_(exit_grace) {}

  int pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string what_;
  absl::Duration exit_grace_;
  std::string buffered_;  // read past the last line returned
};

}  // namespace etcdgrpc::bench
