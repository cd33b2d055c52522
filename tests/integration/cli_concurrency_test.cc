// The CLI's lock and elect next to etcdctl 3.4: the same output (lease ids and
// revisions aside, as each tool has its own session), errors and exit codes;
// the command run under the lock with ETCD_LOCK_KEY and ETCD_LOCK_REV; a
// signal releasing the lock or resigning (exit 0) and cancelling a wait
// ("context canceled", exit 1).
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_runner.h"
#include "cli_suite.h"
#include "gtest/gtest.h"
#include "registry_process.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::testing::CliSuite;
using ::etcdgrpc::testing::RunResult;
using ::etcdgrpc::testing::WithoutLogLines;

// Lease ids in keys, revisions and lease numbers in JSON differ per tool.
std::string Normalize(const std::string& text) {
  static const std::regex kHexId("/[0-9a-f]{1,16}\\b");
  static const std::regex kNumbers(
      "\"(revision|create_revision|mod_revision|lease|raft_term|member_id|cluster_id)\":[0-9]+");
  static const std::regex kKey("\"key\":\"[^\"]*\"");
  // The same numbers in -w fields.
  static const std::regex kFieldsNumbers(
      "\"(Revision|CreateRevision|ModRevision|Lease|RaftTerm|MemberID|ClusterID)\" : [0-9]+");
  std::string out = std::regex_replace(text, kHexId, "/ID");
  out = std::regex_replace(out, kNumbers, "\"$1\":N");
  out = std::regex_replace(out, kFieldsNumbers, "\"$1\" : N");
  return std::regex_replace(out, kKey, "\"key\":K");
}

class CliConcurrencyTest : public CliSuite {
 protected:
  CliConcurrencyTest() : CliSuite("/cli-conc/") {}

  static void SetUpTestSuite() {
    // Children would inherit an ignored SIGINT (a test run in the background).
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction current = {};
      if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);
      }
    }
    CliSuite::SetUpTestSuite();
  }

  static std::unique_ptr<ChildProcess> Start(const char* program, std::vector<std::string> args) {
    std::vector<std::string> argv = Argv(program, std::move(args));
    if (program == std::string(kEtcdctl))
      argv.insert(argv.begin(), {"/usr/bin/env", "ETCDCTL_API=3"});
    return std::make_unique<ChildProcess>(argv);
  }

  // A script that prints what it was given under the lock and exits 3.
  std::string Script() {
    char path[] = "/tmp/etcdgrpc-lock-script-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    const std::string body =
        "#!/bin/sh\n"
        "case \"$ETCD_LOCK_KEY\" in \"$1\"/*) echo key ok;; *) echo \"key $ETCD_LOCK_KEY\";; esac\n"
        "[ \"$ETCD_LOCK_REV\" -gt 0 ] && echo rev ok\n"
        "echo args \"$@\"\n"
        "exit 3\n";
    EXPECT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
    fchmod(fd, 0755);
    close(fd);
    scripts_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& script : scripts_) unlink(script.c_str());
  }

  // Both tools: same exit code and stderr; stdout equal after Normalize.
  void ExpectSameNormalized(const std::vector<std::string>& args) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult ctl = Ctl(args);
    RunResult ours = Cli(args);
    EXPECT_EQ(Normalize(ours.out), Normalize(ctl.out)) << "etcdctl: " << ctl << "\nours: " << ours;
    EXPECT_EQ(ours.err, ctl.err);
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
  }

  std::vector<std::string> scripts_;
};

TEST_F(CliConcurrencyTest, ArgumentErrors) {
  ExpectSameOutput({"lock"});
  ExpectSameOutput({"elect"});
  ExpectSameOutput({"elect", prefix_ + "e"});
  ExpectSameOutput({"elect", "-l", prefix_ + "e", "proposal"});
  ExpectSameOutput({"elect", prefix_ + "e", "a", "b"});
  // Usage text is each tool's own; the error and the exit code are etcdctl's
  // (which prints a flag error twice: cobra, then etcdctl).
  for (std::vector<std::string> args :
       {std::vector<std::string>{"lock", "--ttl=abc", prefix_ + "l"},
        std::vector<std::string>{"lock", prefix_ + "l", "sh", "-c", "true"}}) {
    RunResult ctl = Ctl(args);
    RunResult ours = Cli(args);
    EXPECT_EQ(ours.err, ::etcdgrpc::testing::FirstLine(ctl.err) + "\n") << absl::StrJoin(args, " ");
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
  }
}

TEST_F(CliConcurrencyTest, LockRunsTheCommandWithTheLockAndReleasesIt) {
  const std::string name = prefix_ + "lock";
  const std::string script = Script();
  ExpectSameNormalized({"lock", name, script, name, "x"});
  ExpectSameNormalized({"lock", name, "true"});
  ExpectSameNormalized({"lock", name, "false"});
  ExpectSameNormalized({"lock", name, "etcdgrpc-no-such-command"});
  ExpectSameNormalized({"lock", name, "/nonexistent/command"});
  ExpectSameNormalized(
      {"lock", "--ttl=5", name, "--", "sh", "-c", "echo $ETCD_LOCK_KEY | cut -c1-3"});
  // Nothing is left behind.
  ExpectSameOutput({"get", "--prefix", name + "/"});
}

TEST_F(CliConcurrencyTest, LockPrintsTheKeyAndReleasesOnSignal) {
  for (const char* format : {"simple", "json", "table", "fields"}) {
    SCOPED_TRACE(format);
    const std::string name = absl::StrCat(prefix_, "lock-", format);
    // Ours first: with -w table etcdctl exits without releasing (the key
    // stays until its session's lease expires); ours releases it.
    std::unique_ptr<ChildProcess> ours = Start(kCli, {"-w", format, "lock", name});
    std::optional<std::string> our_first = ours->ReadLine(absl::Seconds(5));
    ours->Signal(SIGTERM);
    std::optional<int> our_code = ours->Wait(absl::Seconds(5));
    EXPECT_EQ(Ctl({"get", "--prefix", name + "/"}).out, "");
    std::unique_ptr<ChildProcess> ctl = Start(kEtcdctl, {"-w", format, "lock", name});
    std::optional<std::string> ctl_first = ctl->ReadLine(absl::Seconds(5));
    if (std::string(format) != "table") {
      ASSERT_TRUE(ctl_first.has_value()) << ctl->err();
    }
    ctl->Signal(SIGTERM);
    std::optional<int> ctl_code = ctl->Wait(absl::Seconds(5));
    ASSERT_TRUE(ctl_code.has_value() && our_code.has_value());
    EXPECT_EQ(*our_code, *ctl_code);
    EXPECT_EQ(Normalize(our_first.value_or("") + "\n" + ours->out()),
              Normalize(ctl_first.value_or("") + "\n" + ctl->out()));
    EXPECT_EQ(ours->err(), WithoutLogLines(ctl->err()));
  }
}

// etcdctl's lock and elect call signal.Notify, which takes a SIGINT even when
// the process was started with it ignored (a background job of a script).
TEST_F(CliConcurrencyTest, StartedWithSigintIgnoredASigintStillEndsLockAndElect) {
  for (const bool lock : {true, false}) {
    std::vector<std::string> transcripts;
    for (const char* tool : {kEtcdctl, kCli}) {
      SCOPED_TRACE(absl::StrCat(tool, lock ? " lock" : " elect"));
      std::vector<std::string> argv =
          Argv(tool, lock ? std::vector<std::string>{"lock", prefix_ + "ign-lock"}
                          : std::vector<std::string>{"elect", prefix_ + "ign-elect", "p"});
      // sh sets SIG_IGN, which exec keeps.
      argv.insert(argv.begin(), {"/bin/sh", "-c", "trap '' INT; exec \"$@\"", "sh"});
      if (tool == std::string(kEtcdctl))
        argv.insert(argv.begin(), {"/usr/bin/env", "ETCDCTL_API=3"});
      ChildProcess child(argv);
      std::optional<std::string> key = child.ReadLine(absl::Seconds(5));
      ASSERT_TRUE(key.has_value()) << child.err();
      if (!lock) {
        EXPECT_EQ(child.ReadLine(absl::Seconds(5)), "p");
      }
      child.Signal(SIGINT);
      EXPECT_EQ(child.Wait(absl::Seconds(5)), 0);
      EXPECT_EQ(WithoutLogLines(child.err()), "");
      transcripts.push_back(Normalize(*key + "\n" + child.out()));
    }
    ASSERT_EQ(transcripts.size(), 2u);
    EXPECT_EQ(transcripts[1], transcripts[0]);
  }
}

TEST_F(CliConcurrencyTest, ASignalWhileWaitingCancelsTheWait) {
  const std::string name = prefix_ + "lock";
  std::unique_ptr<ChildProcess> holder = Start(kEtcdctl, {"lock", name});
  ASSERT_TRUE(holder->ReadLine(absl::Seconds(5)).has_value());
  for (const char* tool : {kEtcdctl, kCli}) {
    SCOPED_TRACE(tool);
    std::unique_ptr<ChildProcess> waiter = Start(tool, {"lock", name});
    EXPECT_FALSE(waiter->ReadLine(absl::Milliseconds(500)).has_value());
    waiter->Signal(SIGINT);
    EXPECT_EQ(waiter->Wait(absl::Seconds(2)), 1);
    EXPECT_EQ(WithoutLogLines(waiter->err()), "Error: context canceled\n");
    EXPECT_EQ(waiter->out(), "");
  }
  // Only the holder's key is left.
  RunResult keys = Ctl({"get", "--prefix", "--keys-only", name + "/"});
  EXPECT_EQ(std::count(keys.out.begin(), keys.out.end(), '/'),
            std::count(name.begin(), name.end(), '/') + 1)
      << keys.out;
  holder->Signal(SIGINT);
  EXPECT_EQ(holder->Wait(absl::Seconds(5)), 0);
}

TEST_F(CliConcurrencyTest, ElectCampaignsListensAndResigns) {
  std::vector<std::string> transcripts;
  for (const char* tool : {kEtcdctl, kCli}) {
    SCOPED_TRACE(tool);
    const std::string name = prefix_ + "election";
    std::unique_ptr<ChildProcess> listener = Start(tool, {"elect", "-l", name});
    absl::SleepFor(absl::Milliseconds(300));
    std::unique_ptr<ChildProcess> first = Start(tool, {"elect", name, "p1"});
    std::optional<std::string> first_key = first->ReadLine(absl::Seconds(5));
    ASSERT_TRUE(first_key.has_value()) << first->err();
    EXPECT_EQ(first->ReadLine(absl::Seconds(5)), "p1");
    std::unique_ptr<ChildProcess> second = Start(tool, {"elect", name, "p2"});
    EXPECT_FALSE(second->ReadLine(absl::Milliseconds(300)).has_value());
    first->Signal(SIGINT);
    EXPECT_EQ(first->Wait(absl::Seconds(5)), 0);
    std::optional<std::string> second_key = second->ReadLine(absl::Seconds(5));
    ASSERT_TRUE(second_key.has_value());
    EXPECT_NE(*second_key, *first_key);
    EXPECT_EQ(second->ReadLine(absl::Seconds(5)), "p2");
    std::string heard;
    for (int i = 0; i < 4; ++i) {
      std::optional<std::string> line = listener->ReadLine(absl::Seconds(5));
      if (!line) break;
      absl::StrAppend(&heard, *line, "\n");
    }
    second->Signal(SIGTERM);
    EXPECT_EQ(second->Wait(absl::Seconds(5)), 0);
    listener->Signal(SIGINT);
    EXPECT_EQ(listener->Wait(absl::Seconds(5)), 0);
    EXPECT_EQ(WithoutLogLines(listener->err()), "");
    transcripts.push_back(Normalize(heard));
    EXPECT_EQ(heard, absl::StrCat(*first_key, "\np1\n", *second_key, "\np2\n"));
  }
  ASSERT_EQ(transcripts.size(), 2u);
  EXPECT_EQ(transcripts[1], transcripts[0]);
}

}  // namespace
}  // namespace etcdgrpc
