#include "concurrency_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"
#include "greeter_helper.h"

extern char** environ;

namespace etcdgrpc::bench {
namespace {

absl::Status RunLockHelper(Client& client, const std::string& name) {
  absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
      concurrency::Session::Create(client, concurrency::SessionOptions{.ttl_seconds = 10});
  if (!session.ok()) return session.status();
  concurrency::Mutex mutex(*session, name);
  std::string line;
  while (std::getline(std::cin, line) && line == "lock") {
    if (absl::Status locked = mutex.Lock(); !locked.ok()) return locked;
    const int64_t acquired_us = absl::ToUnixMicros(absl::Now());
    if (absl::Status unlocked = mutex.Unlock(); !unlocked.ok()) return unlocked;
    std::printf("%lld\n", static_cast<long long>(acquired_us));
    std::fflush(stdout);
  }
  return (*session)->Close();
}

absl::Status RunElectHelper(Client& client, const std::string& name) {
  for (int term = 0;; ++term) {
    absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
        concurrency::Session::Create(client, concurrency::SessionOptions{.ttl_seconds = 10});
    if (!session.ok()) return session.status();
    // The key's deletion (the lease revoked) ends the term at once; the
    // session itself hears of it only at its next renewal.
    internal::Notification lost;
    concurrency::Election election(
        *session, name,
        concurrency::ElectionOptions{.on_lost = [&](const absl::Status&) { lost.Notify(); }});
    absl::Status campaigned = election.Campaign(absl::StrCat(getpid(), "-", term));
    // Revoked while waiting as the standby: a new term at once.
    if (absl::IsFailedPrecondition(campaigned)) continue;
    if (!campaigned.ok()) return campaigned;
    lost.WaitForNotification();
  }
}

}  // namespace

absl::Status RunConcurrencyHelper(const HelperPlan& plan) {
  ClientOptions options;
  options.endpoints = plan.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  if (plan.mode == "lock") return RunLockHelper(**client, plan.name);
  if (plan.mode == "elect") return RunElectHelper(**client, plan.name);
  // --- balanced calls: a greeter server process (greeter_helper.h) ---
  if (plan.mode == "greeter") return RunGreeterHelper(**client, plan.name);
  return absl::InvalidArgumentError(absl::StrCat("unknown helper mode ", plan.mode));
}

absl::StatusOr<HelperProcess> HelperProcess::Spawn(const std::string& self_path,
                                                   const HelperPlan& plan) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return absl::InternalError("pipe failed");
  }
  std::vector<std::string> args = {
      self_path, absl::StrCat("--endpoints=", absl::StrJoin(plan.endpoints, ",")),
      absl::StrCat("--concurrency_helper=", plan.mode), absl::StrCat("--helper_name=", plan.name)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, self_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (error != 0) {
    close(in[1]);
    close(out[0]);
    return absl::InternalError(absl::StrCat("cannot start the helper: ", std::strerror(error)));
  }
  return HelperProcess(pid, in[1], out[0]);
}

HelperProcess::HelperProcess(HelperProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      in_fd_(std::exchange(other.in_fd_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      buffered_(std::move(other.buffered_)) {}

HelperProcess::~HelperProcess() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::Status HelperProcess::WriteLine(const std::string& line) {
  const std::string text = line + "\n";
  if (write(in_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return absl::InternalError("cannot write to the helper");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HelperProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (size_t newline = buffered_.find('\n'); newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) return absl::DeadlineExceededError("the helper did not answer in time");
    pollfd poll_fd = {out_fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(left_ms)) <= 0) continue;
    char buffer[256];
    const ssize_t got = read(out_fd_, buffer, sizeof(buffer));
    if (got == 0) return absl::InternalError("the helper exited");
    if (got > 0) buffered_.append(buffer, static_cast<size_t>(got));
  }
}

}  // namespace etcdgrpc::bench
