// `lock <lockname> [exec-command arg1 arg2 ...]`: acquires a named lock
// (Go's concurrency.Mutex layout, so it excludes etcdctl's lock), then either
// prints its key and holds it until SIGINT/SIGTERM or runs the command with
// ETCD_LOCK_KEY and ETCD_LOCK_REV set and releases it when the command ends.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"
#include "cli/interruptible.h"
#include "cli/signals.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"

extern char** environ;

namespace etcdgrpc::cli {
namespace {

// Go's exec.LookPath: a name without '/' is searched in $PATH.
absl::StatusOr<std::string> LookPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':')) {
    const std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    struct stat info = {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return CliError(kExitError,
                  absl::StrCat("exec: ", GoQuote(name), ": executable file not found in $PATH"));
}

// Go's syscall error texts are strerror's, starting lower case.
std::string GoErrno(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// The command's environment as etcdctl builds it: ETCD_LOCK_KEY and
// ETCD_LOCK_REV, then ours, where a later entry of the same name wins (Go's
// exec dedupEnv).
std::vector<std::string> LockEnvironment(const std::string& key, int64_t revision) {
  std::vector<std::string> entries = {"ETCD_LOCK_KEY=" + key,
                                      absl::StrCat("ETCD_LOCK_REV=", revision)};
  for (char** entry = environ; *entry != nullptr; ++entry) entries.emplace_back(*entry);
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < entries.size(); ++i) {
    last[entries[i].substr(0, entries[i].find('='))] = i;
  }
  std::vector<std::string> kept;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (last[entries[i].substr(0, entries[i].find('='))] == i) kept.push_back(entries[i]);
  }
  return kept;
}

// Runs the command with our stdout and stderr (Go's cmd.Run); its failure in
// Go's words ("exit status 3", "signal: killed", "fork/exec ...").
absl::Status RunCommand(const std::vector<std::string>& args, const std::string& key,
                        int64_t revision) {
  absl::StatusOr<std::string> path = LookPath(args[0]);
  if (!path.ok()) return path.status();
  std::vector<std::string> env = LockEnvironment(key, revision);
  std::vector<char*> argv;
  std::vector<std::string> arg_copies = args;
  for (std::string& arg : arg_copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The command starts as from a shell: no signal blocked (we block them to
  // take them on the main thread), SIGINT and SIGTERM at their default action.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SignalWaiter::kWakeSignal);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::fflush(nullptr);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, path->c_str(), nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (error != 0) {
    return CliError(kExitError, absl::StrCat("fork/exec ", *path, ": ", GoErrno(error)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return absl::OkStatus();
    return CliError(kExitError, absl::StrCat("exit status ", WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    std::string name = strsignal(WTERMSIG(status));
    if (!name.empty()) {
      name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    }
    return CliError(kExitError, absl::StrCat("signal: ", name));
  }
  return CliError(kExitError, "exit status unknown");
}

class LockCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    // Two positionals, so that "--" after the name still belongs to this
    // command (CLI11 hands it to the parent once its only positional has a value).
    lockname_ = app.add_option("lockname", name_, "<lockname>")->type_name("");
    app.add_option("command", command_, "[exec-command arg1 arg2 ...]")->type_name("");
    app.add_option("--ttl", ttl_, "timeout for session")->type_name("int")->default_str("10");
  }

  absl::Status Run(CommandEnv& env) override {
    if (lockname_->count() == 0) {
      return CliError(kExitBadArgs,
                      "lock takes a lock name argument and an optional command to execute");
    }
    absl::StatusOr<int64_t> ttl = GoParseInt(ttl_, 10);
    if (!ttl.ok()) {
      return UsageError(absl::StrCat("invalid argument ", GoQuote(ttl_),
                                     " for \"--ttl\" flag: ", ttl.status().message()));
    }
    // Before the client exists, so that its threads start with the signals
    // blocked.
    // etcdctl's lock calls signal.Notify: a SIGINT ignored at start is taken too.
    SignalWaiter signals({.notify = true});
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
        concurrency::Session::Create(**client, concurrency::SessionOptions{.ttl_seconds = *ttl});
    if (!session.ok()) return CliError(kExitError, ErrorText(session.status()));
    concurrency::Mutex mutex(*session, name_);
    WaitOutcome locked = WaitUnlessInterrupted(signals, [&](const concurrency::Canceller& c) {
      return mutex.Lock(concurrency::WaitOptions{.canceller = &c});
    });
    if (locked.interrupted) {
      // Go: the cancelled context fails the Lock, or the Get after it.
      if (locked.status.ok()) (void)mutex.Unlock();
      return CliError(kExitError, kContextCanceled);
    }
    if (!locked.status.ok()) return CliError(kExitError, ErrorText(locked.status));

    if (!command_.empty()) {
      absl::Status ran = RunCommand(command_, mutex.key(), mutex.header().revision);
      absl::Status unlocked = mutex.Unlock();
      if (!ran.ok()) return ran;
      return unlocked.ok() ? unlocked : CliError(kExitError, ErrorText(unlocked));
    }

    absl::StatusOr<GetResult> held = (*client)->Get(mutex.key());
    if (!held.ok()) return CliError(kExitError, ErrorText(held.status()));
    if (held->kvs.empty()) return CliError(kExitError, "lock lost on init");
    if (absl::Status printed = PrintGetResponse(env, *held); !printed.ok()) {
      (void)mutex.Unlock();
      return printed;
    }
    // Held until a signal (then released: exit 0, as etcdctl) or until the
    // session is lost.
    std::atomic<bool> session_lost{false};
    concurrency::SessionSubscription lost = (*session)->OnLoss([&](const absl::Status&) {
      session_lost = true;
      signals.Wake();
    });
    if (!signals.WaitForSignalOr([&] { return session_lost.load(); })) {
      return CliError(kExitError, "session expired");
    }
    lost.Cancel();
    absl::Status unlocked = mutex.Unlock();
    return unlocked.ok() ? unlocked : CliError(kExitError, ErrorText(unlocked));
  }

 private:
  CLI::Option* lockname_ = nullptr;
  std::string name_;
  std::vector<std::string> command_;
  std::string ttl_ = "10";
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lock"}, .summary = "Acquires a named lock", .make = [] {
       return std::make_unique<LockCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
