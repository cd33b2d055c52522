// The etcdgrpc CLI's global behaviour next to etcdctl 3.4.23, byte for byte:
// -w fields and -w protobuf, command prefixes and unknown commands, ETCDCTL_*
// variables, version, watch's "-- command" and -i, and make-mirror into a
// second etcd.
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "cli_suite.h"
#include "gmock/gmock.h"

namespace etcdgrpc::testing {
namespace {

using ::testing::HasSubstr;

class CliGlobalTest : public CliSuite {
 protected:
  CliGlobalTest() : CliSuite("/cliglobal/") {}

  // Both tools with the same arguments, etcdctl's name in its messages
  // replaced by ours.
  void ExpectSame(const std::vector<std::string>& args, const std::string& input = "") {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult ctl = Ctl(args, input);
    RunResult ours = Cli(args, input);
    EXPECT_EQ(ours.out, ctl.out) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
    EXPECT_EQ(ours.err, absl::StrReplaceAll(ctl.err, {{"etcdctl", "etcdgrpc"}}));
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
  }

  // capnslog's lines without their time stamps (26 characters).
  static std::string WithoutTimestamps(const std::string& err) {
    std::string kept;
    for (absl::string_view line : absl::StrSplit(err, '\n')) {
      if (line.size() > 27 && line[4] == '-' && line[19] == '.') line.remove_prefix(26);
      absl::StrAppend(&kept, line, "\n");
    }
    return kept;
  }
};

TEST_F(CliGlobalTest, FieldsAndProtobufAreByteIdentical) {
  ASSERT_EQ(Ctl({"put", prefix_ + "a", "1\n\"x\""}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", prefix_ + "b", "2"}).exit_code, 0);
  for (const char* format : {"fields", "protobuf"}) {
    ExpectSame({"get", prefix_, "--prefix", "-w", format});
    ExpectSame({"get", prefix_ + "none", "-w", format});
    ExpectSame({"del", prefix_ + "none", "-w", format});
    ExpectSame({"txn", "-w", format}, "value(\"" + prefix_ + "a\") = \"x\"\n\nget " + prefix_ +
                                          "a\n\nget " + prefix_ + "b --prefix\ndel " + prefix_ +
                                          "none\n\n");
    ExpectSame({"member", "list", "-w", format});
    ExpectSame({"lease", "timetolive", "1234", "-w", format});
    ExpectSame({"endpoint", "status", "-w", format});
  }
  ExpectSame({"lease", "revoke", "1234", "-w", "protobuf"});
  ExpectSame({"get", prefix_ + "a", "-w", "fields", "--print-value-only"});
}

TEST_F(CliGlobalTest, CommandPrefixesAndUnknownCommandsAreCobras) {
  ASSERT_EQ(Ctl({"put", prefix_ + "k", "v"}).exit_code, 0);
  ExpectSame({"ge", prefix_ + "k"});
  ExpectSame({"memb", "lis"});
  ExpectSame({"--hex", "g", prefix_ + "k"});
  ExpectSame({"xyz"});
  ExpectSame({"gett"});
  // etcdctl's cobra also has "completion" (so "comp" is ambiguous there); its
  // suggestions for "m" also name "migrate" (v2), which etcdgrpc does not have.
  RunResult ours = Cli({"comp", "1"});
  EXPECT_EQ(ours.exit_code, 0) << ours;
  EXPECT_EQ(ours.out, "compacted revision 1\n");
  ours = Cli({"m"});
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_THAT(ours.err,
              HasSubstr("Did you mean this?\n\tmove-leader\n\tmember\n\tmake-mirror\n\n"));
}

TEST_F(CliGlobalTest, EnvironmentVariablesAsEtcdctl) {
  ASSERT_EQ(Ctl({"put", prefix_ + "k", "v"}).exit_code, 0);
  setenv("ETCDCTL_WRITE_OUT", "fields", 1);
  setenv("ETCDCTL_FOO", "1", 1);
  setenv("ETCDCTL_DIAL_TIMEOUT", "bad", 1);
  RunResult ctl = Ctl({"get", prefix_ + "k"});
  RunResult ours = Cli({"get", prefix_ + "k"});
  EXPECT_EQ(ours.out, ctl.out);
  EXPECT_EQ(WithoutTimestamps(ours.err), WithoutTimestamps(ctl.err));
  EXPECT_EQ(ours.exit_code, ctl.exit_code);
  unsetenv("ETCDCTL_FOO");
  unsetenv("ETCDCTL_DIAL_TIMEOUT");
  // A variable shadowed by its flag is fatal.
  ctl = Ctl({"get", prefix_ + "k", "-w", "json"});
  ours = Cli({"get", prefix_ + "k", "-w", "json"});
  EXPECT_EQ(ours.out, ctl.out);
  EXPECT_EQ(WithoutTimestamps(ours.err), WithoutTimestamps(ctl.err));
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_EQ(ours.exit_code, ctl.exit_code);
  // version does not read them.
  ExpectSame({"version", "-w", "json"});
  unsetenv("ETCDCTL_WRITE_OUT");
  ExpectSame({"version"});
  ExpectSame({"get", prefix_ + "k", "--insecure-transport=true", "--keepalive-time=3s",
              "--keepalive-timeout", "2s", "--insecure-discovery", "--debug=false"});
  // A bad duration: etcdctl's usage text differs from ours, its error does not.
  RunResult ctl_bad = Ctl({"get", prefix_ + "k", "--keepalive-time=x"});
  RunResult ours_bad = Cli({"get", prefix_ + "k", "--keepalive-time=x"});
  EXPECT_EQ(ours_bad.exit_code, ctl_bad.exit_code);
  EXPECT_EQ(FirstLine(ours_bad.err), FirstLine(ctl_bad.err));
  ExpectSame({"get", prefix_ + "k", "--cert="});
}

TEST_F(CliGlobalTest, WatchRunsTheCommandAfterTheSeparator) {
  ASSERT_EQ(Ctl({"put", prefix_ + "k", "a b"}).exit_code, 0);
  const std::string rev = std::to_string(Revision());
  const std::vector<std::string> args = {
      "watch",
      prefix_ + "k",
      "--rev",
      rev,
      "--",
      "sh",
      "-c",
      "echo \"$ETCD_WATCH_REVISION $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY "
      "$ETCD_WATCH_VALUE\""};
  // Both run until killed; the past event is printed at once.
  RunResult ctl = RunProgram(Argv(kEtcdctl, args), "", absl::Seconds(2));
  RunResult ours = RunProgram(Argv(kCli, args), "", absl::Seconds(2));
  EXPECT_EQ(ours.out, ctl.out);
  EXPECT_THAT(ours.out, HasSubstr(rev + " \"PUT\" \"" + prefix_ + "k\" \"a b\""));
  ExpectSame({"watch", prefix_ + "k", "--"});
  ExpectSame({"watch", prefix_ + "k", "--rev", rev, "--", "false"});
  // Interactive: a line, then the end of the input.
  ExpectSame({"watch", "-i"}, "bogus\nwatch\nwatch a b --prefix\n");
}

TEST_F(CliGlobalTest, MakeMirrorCopiesAndFollows) {
  absl::StatusOr<std::unique_ptr<LocalEtcd>> dest = LocalEtcd::Start();
  ASSERT_THAT(dest, IsOk());
  ASSERT_EQ(Ctl({"put", prefix_ + "old", "1"}).exit_code, 0);
  // Runs until killed: the old key at once, then the new one as it comes.
  std::vector<std::string> argv = Argv(kCli, {"make-mirror", "--prefix", prefix_, "--dest-prefix",
                                              "/copy/", (*dest)->EndpointsFlag()});
  std::thread put([&] {
    absl::SleepFor(absl::Milliseconds(700));
    EXPECT_EQ(Ctl({"put", prefix_ + "new", "2"}).exit_code, 0);
  });
  RunResult mirror = RunProgram(argv, "", absl::Seconds(2));
  put.join();
  EXPECT_TRUE(mirror.timed_out) << mirror;
  RunResult copied = RunProgram(
      {kEtcdctl, "--endpoints=" + (*dest)->EndpointsFlag(), "get", "/copy/", "--prefix"}, "");
  EXPECT_EQ(copied.out, "/copy/new\n2\n/copy/old\n1\n");
  ExpectSame({"make-mirror"});
  ExpectSame({"make-mirror", "--dest-prefix", "a", "--no-dest-prefix", (*dest)->EndpointsFlag()});
}

}  // namespace
}  // namespace etcdgrpc::testing
