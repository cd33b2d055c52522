// Running command line tools (etcdgrpc, etcdctl) to completion from the CLI
// integration tests: stdin fed, stdout and stderr captured, every run bounded
// in time (the child is killed and reaped after it), and etcdctl's log lines
// told apart from its answer.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace etcdgrpc::testing {

struct RunResult {
  // The exit code, or 128 + the signal that ended the process (as a shell
  // reports it).
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
};

inline std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  return os << "exit=" << r.exit_code << " timed_out=" << r.timed_out << "\nstdout:\n"
            << r.out << "\nstderr:\n"
            << r.err;
}

// Runs a program (argv[0] an absolute path) with `input` on stdin; the run is
// bounded by `timeout` (the child is killed after it). The child starts with
// no signal blocked or ignored and dies with the test process.
inline RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input,
                            absl::Duration timeout = absl::Seconds(20)) {
  RunResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << errno;
    return result;
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  const absl::Time deadline = absl::Now() + timeout;
  while (fds[0] >= 0 || fds[1] >= 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd polls[3];
    int n = 0;
    for (int fd : fds) polls[n++] = {fd, POLLIN, 0};
    polls[n++] = {in_fd, POLLOUT, 0};
    poll(polls, n, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || polls[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = read(fds[i], buffer, sizeof(buffer));
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
    if (in_fd >= 0 && polls[2].revents != 0) {
      const ssize_t put = write(in_fd, input.data() + written, input.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if (put < 0 || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// etcdctl 3.4 logs client retries as JSON lines on stderr; they are not part
// of its answer.
inline std::string WithoutLogLines(const std::string& err) {
  std::string kept;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    if (absl::StartsWith(line, "{\"level\"")) continue;
    absl::StrAppend(&kept, line, "\n");
  }
  kept.pop_back();
  return kept;
}

inline std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace etcdgrpc::testing
