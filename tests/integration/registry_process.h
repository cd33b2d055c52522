// Child processes for the registry's integration tests: running etcdctl to
// see what the registry wrote, and driving `etcdgrpc register` (read its
// lines, signal it, reap it). Every wait is bounded; children die with the
// test process (PR_SET_PDEATHSIG, through setpriv) and are killed and reaped
// on destruction.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace etcdgrpc::registry::testing {

class ChildProcess {
 public:
  // Starts argv[0] (an absolute path) with stdout and stderr on pipes.
  //
  // posix_spawn (vfork-like: cheap, no pthread_atfork handlers). It was
  // blamed for a rare SIGSEGV in grpc_completion_queue_next under load, but
  // Debian's gRPC 1.51 installs no fork handlers (LocalEtcd still forks with
  // live clients). The SIGSEGV comes from the client: an asynchronous call's
  // state (its ClientContext, which holds a reference to the channel) is
  // freed on gRPC's callback thread after the call reported its end to
  // ~Client, so that thread can drop the last channel reference and, with it,
  // delete gRPC's process-wide callback queue it is about to poll again.
  // setpriv gives the child PR_SET_PDEATHSIG, so it dies with the test.
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return;
    }
    std::vector<std::string> full = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (std::string& arg : full) args.push_back(arg.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The test runner may have signals blocked; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    if (posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ) == 0) pid_ = pid;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exit_code_.has_value()) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }

  // The next complete stdout line (without '\n'), or nullopt after `timeout`
  // or at end of output.
  std::optional<std::string> ReadLine(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (size_t newline = out_.find('\n'); newline != std::string::npos) {
        std::string line = out_.substr(0, newline);
        out_.erase(0, newline + 1);
        return line;
      }
      if (!Pump(deadline)) return std::nullopt;
    }
  }

  // Waits for the exit (reading its output meanwhile); the exit code, 128 +
  // signal for a signal, or nullopt after `timeout`.
  std::optional<int> Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!exit_code_.has_value()) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (absl::Now() >= deadline) return std::nullopt;
      if (!Pump(std::min(deadline, absl::Now() + absl::Milliseconds(20)))) {
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
    while (Pump(absl::Now())) {
    }
    return exit_code_;
  }

  // Everything read so far (stdout not yet returned by ReadLine; stderr).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is available until `deadline`; false when nothing came.
  bool Pump(absl::Time deadline) {
    pollfd polls[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const int64_t wait_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    if (poll(polls, 2, static_cast<int>(wait_ms)) <= 0) return false;
    bool got_any = false;
    int* fds[2] = {&out_fd_, &err_fd_};
    std::string* sinks[2] = {&out_, &err_};
    for (int i = 0; i < 2; ++i) {
      if (*fds[i] < 0 || polls[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = read(*fds[i], buffer, sizeof(buffer));
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
        got_any = true;
      } else if (got == 0 || errno != EINTR) {
        close(*fds[i]);
        *fds[i] = -1;
      }
    }
    return got_any;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::optional<int> exit_code_;
};

struct ProgramResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion (killed after `timeout`).
inline ProgramResult RunProgram(const std::vector<std::string>& argv,
                                absl::Duration timeout = absl::Seconds(20)) {
  ChildProcess child(argv);
  ProgramResult result;
  std::optional<int> code = child.Wait(timeout);
  result.exit_code = code.value_or(-1);
  result.out = child.out();
  result.err = child.err();
  return result;
}

// etcdctl (API v3) against `endpoints`.
inline ProgramResult Etcdctl(const std::string& endpoints, std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl",
                                   "--endpoints=" + endpoints};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

}  // namespace etcdgrpc::registry::testing
