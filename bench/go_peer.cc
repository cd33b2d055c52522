#include "go_peer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace etcdgrpc::bench {
namespace {

// A command may take as long as a block of the slowest workload (10,000 Go KeepAliveOnce calls
// on a loaded VM); a peer silent for this long is stuck.
constexpr absl::Duration kCommandTimeout = absl::Seconds(300);

}  // namespace

absl::StatusOr<std::unique_ptr<GoPeer>> GoPeer::Start(const BenchEnv& env, GoPeerPlan plan) {
  if (env.go_peer.empty()) return nullptr;
  int to_peer[2];
  int from_peer[2];
  if (pipe2(to_peer, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(from_peer, O_CLOEXEC) != 0) {
    close(to_peer[0]);
    close(to_peer[1]);
    return absl::InternalError("pipe failed");
  }
  std::vector<std::string> args = {
      env.go_peer, absl::StrCat("-endpoints=", absl::StrJoin(env.endpoints, ",")),
      absl::StrCat("-workload=", plan.workload), absl::StrCat("-prefix=", plan.prefix),
      absl::StrCat("-leases=", absl::StrJoin(plan.leases, ","))};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_peer[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_peer[1], STDOUT_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, env.go_peer.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_peer[0]);
  close(from_peer[1]);
  if (error != 0) {
    close(to_peer[1]);
    close(from_peer[0]);
    return absl::InternalError(
        absl::StrCat("cannot start the Go peer ", env.go_peer, ": ", std::strerror(error)));
  }
  return std::unique_ptr<GoPeer>(new GoPeer(pid, to_peer[1], from_peer[0], std::move(plan)));
}

GoPeer::~GoPeer() {
  if (to_peer_ >= 0) close(to_peer_);
  if (from_peer_ >= 0) close(from_peer_);
  if (pid_ <= 0) return;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<std::string> GoPeer::Command(absl::string_view command, absl::Duration timeout) {
  if (absl::Status s = Send(command); !s.ok()) return s;
  return Answer(command, timeout);
}

absl::Status GoPeer::Send(absl::string_view command) {
  const std::string line = absl::StrCat(command, "\n");
  for (size_t written = 0; written < line.size();) {
    const ssize_t n = write(to_peer_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("the Go peer is gone (cannot write to it)");
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GoPeer::Answer(absl::string_view command, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (size_t end = buffered_.find('\n'); end != std::string::npos) {
      std::string answer = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      if (absl::StartsWith(answer, "error ")) {
        return absl::InternalError(absl::StrCat("Go peer (", command, "): ", answer.substr(6)));
      }
      return answer;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("the Go peer did not answer ", command));
    }
    pollfd fd{.fd = from_peer_, .events = POLLIN, .revents = 0};
    const int ready = poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(from_peer_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("the Go peer exited (see its stderr)");
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

absl::Status GoPeer::Prepare() { return Command("prepare", kCommandTimeout).status(); }

absl::Status GoPeer::Block(int64_t count) {
  if (absl::Status s = StartBlock(count); !s.ok()) return s;
  return AwaitBlock();
}

absl::Status GoPeer::StartBlock(int64_t count) {
  const bool warmup = plan_.warmup && blocks_ == 0;
  ++blocks_;
  pending_ = absl::StrCat(warmup ? "warmup " : "block ", count);
  return Send(pending_);
}

absl::Status GoPeer::AwaitBlock() { return Answer(pending_, kCommandTimeout).status(); }

void GoPeer::Finish() { (void)Command("finish", kCommandTimeout); }

absl::StatusOr<ReportFigures> GoPeer::Report() {
  absl::StatusOr<std::string> line =
      Command(absl::StrCat("report ", line_workload()), kCommandTimeout);
  if (!line.ok()) return line.status();
  absl::StatusOr<ReportFigures> figures = ParseReportLine(*line);
  if (!figures.ok()) return figures.status();
  std::printf("%s\n", line->c_str());
  std::fflush(stdout);
  return figures;
}

BlockRun GoPeer::Run() {
  return {.report = {.peer = "go-clientv3", .workload = line_workload()},
          .block = [this](int64_t count, Measurement&) { return Block(count); },
          .prepare = [this](int64_t) { return Prepare(); },
          .finish = [this] { Finish(); },
          .external_report = [this] { return Report(); }};
}

}  // namespace etcdgrpc::bench
