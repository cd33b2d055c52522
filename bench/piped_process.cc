// PipedProcess (piped_process.h).
#include "piped_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace etcdgrpc::bench {

absl::StatusOr<PipedProcess> PipedProcess::Spawn(std::vector<std::string> argv, std::string what,
                                                 absl::Duration exit_grace) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return absl::InternalError("pipe failed");
  }
  // Checked here: behind setpriv a missing program would only show as a child that exits.
  if (access(argv[0].c_str(), X_OK) != 0) {
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    char buffer[256];
    return absl::InternalError(absl::StrCat("cannot start ", what, " ", argv[0], ": ",
                                            strerror_r(errno, buffer, sizeof buffer)));
  }
  // setpriv gives the child PR_SET_PDEATHSIG: if the bench dies (an abort under ASan), its
  // children die with it instead of keeping ctest's output pipe open until its time-out.
  // (The signal follows the spawning thread: the bench spawns from its main thread only.)
  argv.insert(argv.begin(), {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (error != 0) {
    close(in[1]);
    close(out[0]);
    char buffer[256];
    return absl::InternalError(absl::StrCat("cannot start ", what, " ", argv[0], ": ",
                                            strerror_r(error, buffer, sizeof buffer)));
  }
  return PipedProcess(pid, in[1], out[0], std::move(what), exit_grace);
}

PipedProcess::PipedProcess(PipedProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      in_fd_(std::exchange(other.in_fd_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      what_(std::move(other.what_)),
      exit_grace_(other.exit_grace_),
      buffered_(std::move(other.buffered_)) {}

PipedProcess::~PipedProcess() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ <= 0) return;
  const absl::Time deadline = absl::Now() + exit_grace_;
  while (waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::Status PipedProcess::WriteLine(absl::string_view line) {
  const std::string text = absl::StrCat(line, "\n");
  for (size_t written = 0; written < text.size();) {
    const ssize_t n = write(in_fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(absl::StrCat(what_, " is gone (cannot write to it)"));
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PipedProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (size_t newline = buffered_.find('\n'); newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      return absl::DeadlineExceededError(absl::StrCat(what_, " did not answer in time"));
    }
    pollfd poll_fd = {out_fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(left_ms) + 1) <= 0) continue;
    char buffer[4096];
    const ssize_t got = read(out_fd_, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return absl::UnavailableError(absl::StrCat(what_, " exited (see its stderr)"));
    buffered_.append(buffer, static_cast<size_t>(got));
  }
}

absl::Status PipedProcess::Wait() {
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError("waitpid failed");
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what_, " failed (status ", status, ")"));
}

}  // namespace etcdgrpc::bench
