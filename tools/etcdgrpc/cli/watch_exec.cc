#include "cli/watch_exec.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/exit_status.h"
#include "cli/global_env.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {
namespace {

// Go's exec error text for a finished child.
std::string ExitText(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = strsignal(WTERMSIG(status));
    std::string text = name == nullptr ? absl::StrCat("signal ", WTERMSIG(status)) : name;
    // Go prints signal names in lower case ("signal: killed").
    if (!text.empty())
      text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return absl::StrCat("signal: ", text);
  }
  return absl::StrCat("exit status ", status);
}

}  // namespace

std::vector<std::string> WatchEventEnvironment(int64_t revision, const Event& event) {
  return {absl::StrCat("ETCD_WATCH_REVISION=", revision),
          absl::StrCat("ETCD_WATCH_EVENT_TYPE=",
                       GoQuote(event.type == EventType::kDelete ? "DELETE" : "PUT")),
          absl::StrCat("ETCD_WATCH_KEY=", GoQuote(event.kv.key)),
          absl::StrCat("ETCD_WATCH_VALUE=", GoQuote(event.kv.value))};
}

absl::Status RunWatchCommand(const std::vector<std::string>& command,
                             const std::vector<std::string>& extra_env) {
  std::vector<std::string> quoted;
  for (const std::string& word : command) quoted.push_back(GoQuote(word));
  const std::string name = absl::StrCat("command [", absl::StrJoin(quoted, " "), "] error (");

  std::vector<std::string> environment = ProcessEnvironment();
  environment.insert(environment.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> words = command;
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  // The tool blocks SIGINT/SIGTERM in its threads; the command starts with none blocked.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    const std::string reason =
        spawned == ENOENT && command[0].find('/') == std::string::npos
            ? absl::StrCat("exec: ", GoQuote(command[0]), ": executable file not found in $PATH")
            : absl::StrCat("fork/exec ", command[0], ": ", std::strerror(spawned));
    return CliError(kExitError, absl::StrCat(name, reason, ")"));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return CliError(kExitError, absl::StrCat(name, ExitText(status), ")"));
}

}  // namespace etcdgrpc::cli
