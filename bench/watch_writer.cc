#include "watch_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"

extern char** environ;

namespace etcdgrpc::bench {
namespace {

std::string Now() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

}  // namespace

int64_t WrittenAtMicros(const std::string& value) {
  int64_t micros = 0;
  return absl::SimpleAtoi(value, &micros) ? micros : 0;
}

absl::Status RunWriter(const WriterPlan& plan) {
  char go = 0;
  if (read(STDIN_FILENO, &go, 1) != 1) return absl::CancelledError("no go signal on stdin");
  ClientOptions options;
  options.endpoints = plan.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  if (plan.mode == "batched") {
    for (int64_t done = 0; done < plan.count; done += plan.batch) {
      TxnRequest txn;
      for (int64_t i = done; i < std::min(plan.count, done + plan.batch); ++i) {
        txn.Then(Op::Put(absl::StrCat(plan.prefix, i), Now()));
      }
      if (auto r = (*client)->Txn(txn); !r.ok()) return r.status();
    }
  } else if (plan.mode == "single") {
    for (int64_t i = 0; i < plan.count; ++i) {
      if (auto r = (*client)->Put(absl::StrCat(plan.prefix, i), Now()); !r.ok()) return r.status();
    }
  } else if (plan.mode == "keys") {
    for (int64_t round = 0; round < plan.rounds; ++round) {
      for (int64_t key = 0; key < plan.keys; ++key) {
        if (auto r = (*client)->Put(absl::StrCat(plan.prefix, key), Now()); !r.ok()) {
          return r.status();
        }
      }
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown writer mode ", plan.mode));
  }
  return absl::OkStatus();
}

absl::StatusOr<WriterProcess> WriterProcess::Spawn(const std::string& self_path,
                                                   const WriterPlan& plan) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args = {self_path,
                                   absl::StrCat("--endpoints=", absl::StrJoin(plan.endpoints, ",")),
                                   absl::StrCat("--writer_mode=", plan.mode),
                                   absl::StrCat("--writer_prefix=", plan.prefix),
                                   absl::StrCat("--writer_count=", plan.count),
                                   absl::StrCat("--writer_batch=", plan.batch),
                                   absl::StrCat("--writer_keys=", plan.keys),
                                   absl::StrCat("--writer_rounds=", plan.rounds)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, self_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[0]);
  if (error != 0) {
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("cannot start the writer: ", std::strerror(error)));
  }
  return WriterProcess(pid, pipe_fds[1]);
}

WriterProcess::WriterProcess(WriterProcess&& other) noexcept
    : pid_(other.pid_), go_fd_(other.go_fd_) {
  other.pid_ = -1;
  other.go_fd_ = -1;
}

WriterProcess::~WriterProcess() {
  if (go_fd_ >= 0) close(go_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::Status WriterProcess::Go() {
  const char go = 'g';
  if (write(go_fd_, &go, 1) != 1) return absl::InternalError("cannot signal the writer");
  return absl::OkStatus();
}

absl::Status WriterProcess::Wait() {
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError("waitpid failed");
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("the writer failed (status ", status, ")"));
}

}  // namespace etcdgrpc::bench
