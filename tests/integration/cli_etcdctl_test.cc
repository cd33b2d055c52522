// The etcdgrpc command line tool against a real etcd, next to etcdctl: what
// one writes the other reads, `get` prints byte-identical output for the same
// keys and flags, put/del/txn outputs match, and errors and exit codes match.
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_runner.h"
#include "cli_suite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "status_matchers.h"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::CliSuite;
using ::etcdgrpc::testing::ClosedEndpoint;
using ::etcdgrpc::testing::FirstLine;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::RunProgram;
using ::etcdgrpc::testing::RunResult;
using ::etcdgrpc::testing::WithoutLogLines;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

class CliTest : public CliSuite {
 protected:
  CliTest() : CliSuite("/cli/") {}

  // Puts with etcdctl, the value through stdin so that it may hold any byte.
  void CtlPut(const std::string& key, const std::string& value) {
    RunResult put = value.empty() ? Ctl({"put", key, ""}) : Ctl({"put", key}, value);
    ASSERT_EQ(put.exit_code, 0) << put;
  }
};

// Revisions and what depends on when a write happened: the only JSON fields
// that differ when the same write is replayed by the other tool.
void DropRevisions(nlohmann::json& json) {
  if (json.is_object()) {
    for (const char* field : {"revision", "create_revision", "mod_revision"}) json.erase(field);
    for (auto& [name, value] : json.items()) DropRevisions(value);
  } else if (json.is_array()) {
    for (auto& value : json) DropRevisions(value);
  }
}

TEST_F(CliTest, GetIsByteIdenticalToEtcdctl) {
  const std::string p = prefix_;
  CtlPut(p + "a", "plain");
  CtlPut(p + "b", std::string("x\0y\xffz", 5));
  CtlPut(p + "c", std::string("\0", 1));
  CtlPut(p + "d", "\xff");
  CtlPut(p + "e", "");
  CtlPut(p + "f/1", "nested\nline");
  CtlPut(p + "\xff\xfe", "high key");
  CtlPut(p + "a", "plain again");  // version 2
  const int64_t old_revision = Revision() - 1;
  const std::vector<std::vector<std::string>> cases = {
      {"get", p + "a"},
      {"get", p + "b"},
      {"get", p + "e"},
      {"get", p + "missing"},
      {"get", p, "--prefix"},
      {"get", p, "--prefix", "--keys-only"},
      {"get", p, "--prefix", "--print-value-only"},
      {"get", p, "--prefix", "--limit=3"},
      {"get", p, "--prefix", "--sort-by=VALUE", "--order=DESCEND"},
      {"get", p, "--prefix", "--sort-by=version"},
      {"get", p, "--prefix", "--consistency=s"},
      {"get", p, "--prefix", "--hex"},
      {"get", p + "f/", "--prefix"},
      {"get", p + "b", p + "e"},
      {"get", p + "e", p + "b"},
      {"get", p + "e", "--from-key", "--keys-only"},
      {"get", p + "a", "--rev=" + std::to_string(old_revision)},
      {"get", p, "--prefix", "-w", "json"},
      {"get", p, "--prefix", "--keys-only", "-w", "json"},
      {"get", p, "--prefix", "--limit=2", "-w", "json"},
      {"get", p + "missing", "-w", "json"},
      {"get", p + "e", p + "b", "-w", "json"},
      {"-w", "json", "get", p + "d"},
  };
  for (const auto& args : cases) ExpectSameOutput(args);
}

TEST_F(CliTest, WhatOneToolWritesTheOtherReads) {
  const std::string binary("v\0\xff\n", 4);
  RunResult put = Cli({"put", prefix_ + "ours"}, binary);
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(put.out, "OK\n");
  RunResult read = Ctl({"get", prefix_ + "ours", "--print-value-only"});
  EXPECT_EQ(read.out, binary + "\n");

  CtlPut(prefix_ + "theirs", binary);
  read = Cli({"get", prefix_ + "theirs", "--print-value-only"});
  EXPECT_EQ(read.exit_code, 0) << read;
  EXPECT_EQ(read.out, binary + "\n");

  RunResult txn =
      Cli({"txn"}, absl::StrCat("value(\"", prefix_, "theirs\") = \"v\\x00\\xff\\n\"\n\n", "put ",
                                prefix_, "txn \"from txn\"\n\n\n"));
  EXPECT_EQ(txn.exit_code, 0) << txn;
  EXPECT_EQ(txn.out, "SUCCESS\n\nOK\n");
  read = Ctl({"get", prefix_ + "txn", "--print-value-only"});
  EXPECT_EQ(read.out, "from txn\n");

  RunResult del = Cli({"del", prefix_, "--prefix"});
  EXPECT_EQ(del.out, "3\n");
  read = Ctl({"get", prefix_, "--prefix", "-w", "json"});
  EXPECT_EQ(read.exit_code, 0) << read;
  EXPECT_THAT(read.out, ::testing::Not(HasSubstr("kvs")));
}

// Runs `args` with etcdctl and then with etcdgrpc, each after `setup` has put
// the keys back in the same state; the outputs must match.
void ExpectSameAfterSetup(const std::function<void()>& setup,
                          const std::function<RunResult(bool ours)>& run, bool json) {
  setup();
  RunResult ctl = run(false);
  setup();
  RunResult ours = run(true);
  EXPECT_EQ(ours.exit_code, ctl.exit_code) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
  EXPECT_EQ(ours.err, ctl.err);
  if (!json) {
    EXPECT_EQ(ours.out, ctl.out) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
    return;
  }
  ASSERT_TRUE(nlohmann::json::accept(ctl.out)) << ctl;
  ASSERT_TRUE(nlohmann::json::accept(ours.out)) << ours;
  nlohmann::json expected = nlohmann::json::parse(ctl.out);
  nlohmann::json actual = nlohmann::json::parse(ours.out);
  DropRevisions(expected);
  DropRevisions(actual);
  EXPECT_EQ(actual, expected);
}

TEST_F(CliTest, PutDelAndTxnOutputsMatchEtcdctl) {
  const std::string p = prefix_;
  const auto setup = [&] {
    Ctl({"del", p, "--prefix"});
    CtlPut(p + "k1", "v1");
    CtlPut(p + "k2", std::string("\0\xff", 2));
    CtlPut(p + "k3", "");
  };
  const std::string txn_success =
      absl::StrCat("value(\"", p, "k1\") = \"v1\"\nmod(\"", p, "k1\") > \"0\"\n\n", "get ", p,
                   " --prefix\n", "put ", p, "k1 \"new value\" --prev-kv\n", "del ", p,
                   "k2 --prev-kv\n\n", "put ", p, "k9 x\n\n");
  const std::string txn_failure = absl::StrCat("version(\"", p, "k1\") = \"7\"\n\nput ", p,
                                               "k9 x\n\nget ", p, "k1\ndel ", p, "k3\n\n");
  for (bool json : {false, true}) {
    SCOPED_TRACE(json ? "json" : "simple");
    std::vector<std::string> format;
    if (json) format = {"-w", "json"};
    const auto with = [&](std::vector<std::string> args) {
      args.insert(args.end(), format.begin(), format.end());
      return args;
    };
    const auto both = [&](std::vector<std::string> args, std::string input = "") {
      SCOPED_TRACE(absl::StrJoin(args, " "));
      ExpectSameAfterSetup(
          setup, [&](bool ours) { return ours ? Cli(with(args), input) : Ctl(with(args), input); },
          json);
    };
    both({"put", p + "k1", "v2"});
    both({"put", p + "k1", "v2", "--prev-kv"});
    both({"put", p + "new"}, std::string("from\0stdin\n", 11));
    both({"put", p + "k2", "--ignore-value", "--prev-kv"});
    both({"del", p + "k1"});
    both({"del", p + "none"});
    both({"del", p, "--prefix", "--prev-kv"});
    both({"del", p + "k1", p + "k3", "--prev-kv"});
    both({"del", p + "k3", p + "k1"});
    both({"txn"}, txn_success);
    both({"txn"}, txn_failure);
    // The prompts go to stdout too, before the answer.
    if (!json) both({"txn", "-i"}, txn_failure);
  }
}

TEST_F(CliTest, ErrorsMatchEtcdctl) {
  const int64_t future = Revision() + 1000;
  // Same stdout, stderr and exit code.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"get"},
           {"get", ""},
           {"put"},
           {"put", "", "v"},
           {"put", prefix_ + "k", "v", "--lease=zz"},
           {"put", prefix_ + "k", "--ignore-value"},  // etcd: key not found
           {"del"},
           {"del", "a", "b", "c"},
           {"del", ""},
           {"get", "a", "--prefix", "--from-key"},
           {"get", "a", "--consistency=x"},
           {"get", "a", "--sort-by=x"},
           {"get", "a", "-w", "table"},
           {"get", "a", "-w", "nope"},
           {"get", "a", "--print-value-only", "-w", "json"},
           {"get", "a", "--rev=" + std::to_string(future)},
           {"compaction"},
           {"compaction", "x"},
           {"compaction", std::to_string(future)},
           {"txn", "x"},
       }) {
    ExpectSameOutput(args);
  }
  RunResult future_rev = Cli({"get", "a", "--rev=" + std::to_string(future)});
  EXPECT_EQ(future_rev.err, "Error: etcdserver: mvcc: required revision is a future revision\n");
  EXPECT_EQ(future_rev.exit_code, 1);

  // Malformed transactions: same message and exit code.
  for (const std::string& input :
       {std::string("mod(\"k\")>\"0\"\n\n\n\n"), std::string("foo(\"k\") > \"0\"\n\n\n\n"),
        std::string("\nget k --bogus\n\n\n"), std::string("\nput k v\n"),
        std::string("\nput k v --lease=zz\n\n\n")}) {
    SCOPED_TRACE(input);
    RunResult ctl = Ctl({"txn"}, input);
    RunResult ours = Cli({"txn"}, input);
    EXPECT_EQ(ours.exit_code, ctl.exit_code) << ctl << ours;
    // etcdctl also prints cobra's usage of an operation it cannot parse.
    EXPECT_EQ(ours.err, ctl.err.substr(ctl.err.find("Error: ")));
  }
}

TEST_F(CliTest, UnknownFlagOrCommandShowsUsageAndFails) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"get", "a", "--bogus"}, {"get", "a", "--limit=x"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult ctl = Ctl(args);
    RunResult ours = Cli(args);
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
    EXPECT_NE(ours.exit_code, 0);
    // etcdctl prints the error twice (cobra, then itself); the usage texts differ.
    EXPECT_EQ(ours.err, FirstLine(ctl.err) + "\n");
    EXPECT_THAT(ours.out, HasSubstr("Usage: etcdgrpc get"));
  }
  RunResult ours = Cli({"bogus"});
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_EQ(ours.out, "");
  // cobra's error and hint, then etcdctl's own "Error:" line.
  EXPECT_EQ(ours.err,
            "Error: unknown command \"bogus\" for \"etcdgrpc\"\nRun 'etcdgrpc --help' for "
            "usage.\nError: unknown command \"bogus\" for \"etcdgrpc\"\n");
  EXPECT_EQ(Ctl({"bogus"}).exit_code, 1);
}

TEST_F(CliTest, MemberListIsByteIdenticalToEtcdctl) {
  for (std::vector<std::string> format :
       {std::vector<std::string>{}, {"-w", "json"}, {"-w", "table"}}) {
    std::vector<std::string> args = {"member", "list"};
    args.insert(args.end(), format.begin(), format.end());
    RunResult ctl = Ctl(args);
    RunResult ours = Cli(args);
    ASSERT_EQ(ctl.exit_code, 0) << ctl;
    EXPECT_EQ(ours.exit_code, 0) << ours;
    EXPECT_EQ(ours.out, ctl.out);
    EXPECT_EQ(ours.err, ctl.err);
  }
}

TEST_F(CliTest, EndpointStatusMatchesEtcdctl) {
  RunResult ctl = Ctl({"endpoint", "status"});
  RunResult ours = Cli({"endpoint", "status"});
  ASSERT_EQ(ours.exit_code, 0) << ours;
  ASSERT_EQ(ctl.exit_code, 0) << ctl;
  std::vector<std::string> ctl_columns = absl::StrSplit(FirstLine(ctl.out), ", ");
  std::vector<std::string> our_columns = absl::StrSplit(FirstLine(ours.out), ", ");
  ASSERT_EQ(our_columns.size(), 10u) << ours;
  ASSERT_EQ(ctl_columns.size(), 10u) << ctl;
  // endpoint, ID, version, is leader, is learner, raft term, errors are stable;
  // db size and the raft indexes move with etcd's own writes.
  for (size_t column : {0, 1, 2, 4, 5, 6, 9}) {
    EXPECT_EQ(our_columns[column], ctl_columns[column]) << column;
  }
  EXPECT_THAT(our_columns[3], MatchesRegex("[0-9]+(\\.[0-9])? k?B"));
  int64_t number = 0;
  EXPECT_TRUE(absl::SimpleAtoi(our_columns[7], &number));
  EXPECT_TRUE(absl::SimpleAtoi(our_columns[8], &number));

  ours = Cli({"endpoint", "status", "-w", "json"});
  ctl = Ctl({"endpoint", "status", "-w", "json"});
  ASSERT_TRUE(nlohmann::json::accept(ours.out)) << ours;
  nlohmann::json expected = nlohmann::json::parse(ctl.out);
  nlohmann::json actual = nlohmann::json::parse(ours.out);
  for (nlohmann::json* status : {&expected, &actual}) {
    for (auto& entry : *status) {
      for (const char* moving : {"dbSize", "dbSizeInUse", "raftIndex", "raftAppliedIndex"}) {
        entry["Status"].erase(moving);
      }
      entry["Status"]["header"].erase("revision");
    }
  }
  EXPECT_EQ(actual, expected);

  // The table's header row: its widths follow the values (etcdctl prints the
  // member id unpadded, so its column is 15 wide for 1 cluster in 16); the
  // values themselves move, so only the header rows are compared.
  ours = Cli({"endpoint", "status", "-w", "table"});
  ctl = Ctl({"endpoint", "status", "-w", "table"});
  ASSERT_EQ(ours.exit_code, 0) << ours;
  ASSERT_EQ(ctl.exit_code, 0) << ctl;
  std::vector<std::string> our_rows = absl::StrSplit(ours.out, '\n');
  std::vector<std::string> ctl_rows = absl::StrSplit(ctl.out, '\n');
  ASSERT_GE(our_rows.size(), 3u) << ours;
  ASSERT_GE(ctl_rows.size(), 3u) << ctl;
  EXPECT_EQ(our_rows[1], ctl_rows[1]);
  EXPECT_THAT(our_rows[1], HasSubstr(" VERSION | DB SIZE | IS LEADER |"));
  EXPECT_THAT(our_rows[1], HasSubstr("| RAFT APPLIED INDEX | ERRORS |"));
}

TEST_F(CliTest, EndpointStatusReportsEachUnreachableEndpoint) {
  const std::string dead = ClosedEndpoint();  // a port nobody listens on
  ASSERT_FALSE(dead.empty());

  RunResult ours = RunProgram({kCli, "--endpoints=" + etcd_->EndpointsFlag() + "," + dead,
                               "--command-timeout=3s", "endpoint", "status"},
                              "");
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_THAT(ours.out, StartsWith(etcd_->ClientEndpoint(0) + ", "));
  EXPECT_THAT(ours.err, StartsWith("Failed to get the status of endpoint " + dead + " ("));

  RunResult get = RunProgram({kCli, "--endpoints=" + dead, "--dial-timeout=500ms", "get", "k"}, "");
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_THAT(get.err, StartsWith("Error: "));
}

TEST_F(CliTest, Compaction) {
  CtlPut(prefix_ + "k", "v");
  const int64_t revision = Revision();
  RunResult ours = Cli({"compaction", std::to_string(revision - 1)});
  EXPECT_EQ(ours.exit_code, 0) << ours;
  EXPECT_EQ(ours.out, absl::StrCat("compacted revision ", revision - 1, "\n"));
  ours = Cli({"compaction", "--physical", std::to_string(revision)});
  EXPECT_EQ(ours.out, absl::StrCat("compacted revision ", revision, "\n"));
  // Compacted already, and reading below it: etcd's errors, as etcdctl shows them.
  ExpectSameOutput({"compaction", std::to_string(revision - 1)});
  ExpectSameOutput({"get", prefix_ + "k", "--rev=" + std::to_string(revision - 1)});
}

TEST_F(CliTest, WireLogRecordsTheCall) {
  const std::string path = ::testing::TempDir() + "/cli_wire_log.txt";
  std::filesystem::remove(path);
  RunResult ours = Cli({"--wire-log=" + path, "get", prefix_ + "k"});
  EXPECT_EQ(ours.exit_code, 0) << ours;
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  EXPECT_THAT(contents.str(), HasSubstr("/etcdserverpb.KV/Range"));
  EXPECT_THAT(contents.str(), HasSubstr(" send "));
  EXPECT_THAT(contents.str(), HasSubstr(" recv "));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace etcdgrpc
