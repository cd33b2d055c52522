// The etcdgrpc CLI's member, alarm, defrag, snapshot, move-leader and endpoint
// health/hashkv/status --cluster commands next to etcdctl 3.4.23 on one etcd:
// the same stdout, stderr and exit code, errors included. Where the output
// holds what cannot repeat (a new member's id, a duration), that token is
// replaced in both before comparing.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli_suite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_client.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::testing::CliSuite;
using ::etcdgrpc::testing::ClosedEndpoint;
using ::etcdgrpc::testing::RunResult;
using ::testing::HasSubstr;

std::string Replace(std::string text, const std::string& pattern, const std::string& with) {
  return std::regex_replace(text, std::regex(pattern), with);
}

// etcd lists members by id, and a new member's id is random: the order of the members (and of
// ETCD_INITIAL_CLUSTER's entries, which follow it) is not the same twice.
std::string SortInitialCluster(const std::string& text) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("ETCD_INITIAL_CLUSTER=\"([^\"]*)\""))) return text;
  std::vector<std::string> entries = absl::StrSplit(match[1].str(), ',');
  std::sort(entries.begin(), entries.end());
  return std::string(match.prefix()) + "ETCD_INITIAL_CLUSTER=\"" + absl::StrJoin(entries, ",") +
         "\"" + std::string(match.suffix());
}

class CliClusterTest : public CliSuite {
 protected:
  CliClusterTest() : CliSuite("/cli-cluster/") {}

  std::string MemberIdHex() {
    RunResult list = Ctl({"member", "list", "-w", "json"});
    const uint64_t id = nlohmann::json::parse(list.out)["members"][0]["ID"].get<uint64_t>();
    return absl::StrFormat("%x", id);
  }

  // Both tools, each followed by `cleanup` run with etcdctl (given the output), the outputs
  // compared after `normalize`.
  void ExpectSameNormalized(const std::vector<std::string>& args,
                            const std::function<std::string(const std::string&)>& normalize) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult ctl = Ctl(args);
    RunResult ours = Cli(args);
    EXPECT_EQ(normalize(ours.out), normalize(ctl.out)) << "etcdctl: " << ctl << "\nours: " << ours;
    EXPECT_EQ(normalize(ours.err), normalize(ctl.err));
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
  }

  std::string Temp(const std::string& name) {
    return absl::StrCat(::testing::TempDir(), "/cli_cluster_", getpid(), "_", name);
  }
};

TEST_F(CliClusterTest, MemberAddAsLearnerThenRemove) {
  // A learner does not count towards the quorum, so the one-member cluster stays usable.
  for (const char* format : {"simple", "json"}) {
    SCOPED_TRACE(format);
    // etcd refuses peer URLs of a member just removed ("member not found"): each tool adds
    // its own, and ours are written as etcdctl's before comparing.
    const auto add = [&](const char* urls) {
      return std::vector<std::string>{
          "member", "add", "newbie", "--learner", "-w", format, std::string("--peer-urls=") + urls};
    };
    const std::string first = std::string(format) == "simple" ? "1" : "3";
    const std::string second = std::string(format) == "simple" ? "2" : "4";
    const auto as_etcdctls = [&](const std::string& text) {
      return Replace(text, "127\\.0\\.0\\.1:" + second + "([12])(?![0-9])",
                     "127.0.0.1:" + first + "$1");
    };
    RunResult ctl = Ctl(add(
        (std::string("http://127.0.0.1:") + first + "1,http://127.0.0.1:" + first + "2").c_str()));
    ASSERT_EQ(ctl.exit_code, 0) << ctl;
    // Remove etcdctl's learner before ours (one learner at a time).
    std::smatch id;
    const std::string ctl_out = ctl.out;
    std::string ctl_id;
    if (std::string(format) == "simple") {
      ASSERT_TRUE(std::regex_search(ctl_out, id, std::regex("Member +([0-9a-f]+) added")));
      ctl_id = id[1];
    } else {
      ctl_id =
          absl::StrFormat("%x", nlohmann::json::parse(ctl.out)["member"]["ID"].get<uint64_t>());
    }
    RunResult ctl_removed = Ctl({"member", "remove", ctl_id});
    ASSERT_EQ(ctl_removed.exit_code, 0) << ctl_removed;
    RunResult ours =
        Cli(add((std::string("http://127.0.0.1:") + second + "1,http://127.0.0.1:" + second + "2")
                    .c_str()));
    ours.out = as_etcdctls(ours.out);
    ASSERT_EQ(ours.exit_code, 0) << ours;
    std::string our_id;
    if (std::string(format) == "simple") {
      ASSERT_TRUE(std::regex_search(ours.out, id, std::regex("Member +([0-9a-f]+) added")));
      our_id = id[1];
      // %16x pads a shorter id with spaces: compare with the width kept.
      EXPECT_EQ(SortInitialCluster(Replace(ours.out, "Member +[0-9a-f]+ added", "Member ID added")),
                SortInitialCluster(Replace(ctl.out, "Member +[0-9a-f]+ added", "Member ID added")));
    } else {
      nlohmann::json a = nlohmann::json::parse(ours.out), b = nlohmann::json::parse(ctl.out);
      our_id = absl::StrFormat("%x", a["member"]["ID"].get<uint64_t>());
      for (nlohmann::json* j : {&a, &b}) {
        (*j)["header"].erase("revision");
        const uint64_t member = (*j)["member"]["ID"];
        (*j)["member"].erase("ID");
        for (auto& m : (*j)["members"]) {
          if (m["ID"] == member) m.erase("ID");
        }
        std::sort(
            (*j)["members"].begin(), (*j)["members"].end(),
            [](const nlohmann::json& x, const nlohmann::json& y) { return x.dump() < y.dump(); });
      }
      EXPECT_EQ(a, b);
    }
    EXPECT_EQ(ours.err, ctl.err);
    // Our own remove of our learner, next to etcdctl's of its own.
    RunResult removed = Cli({"member", "remove", our_id});
    EXPECT_EQ(removed.exit_code, 0) << removed;
    EXPECT_EQ(Replace(removed.out, "Member +[0-9a-f]+ removed", "Member ID removed"),
              Replace(ctl_removed.out, "Member +[0-9a-f]+ removed", "Member ID removed"));
  }
}

// Never a voting member added: an unstarted one would cost the one-member cluster its quorum.
TEST_F(CliClusterTest, MemberCommandErrors) {
  const std::string self = MemberIdHex();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"member", "add"},
           {"member", "add", "a", "b"},
           {"member", "add", "a", "http://x:1", "HTTP://y:2"},
           {"member", "add", "a"},
           {"member", "add", "a", "--peer-urls=foo"},
           {"member", "add", "a", "--peer-urls=http://127.0.0.1", "--learner"},
           {"member", "add", "a", "--peer-urls=http://127.0.0.1:1/x", "--learner"},
           {"member", "update", "0", "--peer-urls=ftp://127.0.0.1:1"},
           {"member", "remove"},
           {"member", "remove", "zz"},
           {"member", "remove", "1", "2"},
           {"member", "remove", "12345678901234567"},
           {"member", "remove", "1234"},
           {"member", "remove", "0"},
           {"member", "update", "1234"},
           {"member", "update", "zz", "--peer-urls=http://127.0.0.1:1"},
           {"member", "update", "1234", "--peer-urls=http://127.0.0.1:1"},
           {"member", "promote"},
           {"member", "promote", "1234"},
           {"member", "promote", self},
       }) {
    ExpectSameOutput(args);
  }
}

TEST_F(CliClusterTest, MemberUpdateWithItsOwnPeerUrl) {
  const std::string self = MemberIdHex();
  RunResult list = Ctl({"member", "list", "-w", "json"});
  const std::string peer =
      nlohmann::json::parse(list.out)["members"][0]["peerURLs"][0].get<std::string>();
  ExpectSameOutput({"member", "update", self, "--peer-urls=" + peer});
  // No fields printer in etcdctl: refused once updated.
  ExpectSameOutput({"member", "update", self, "--peer-urls=" + peer, "-w", "fields"});
  ExpectSameOutput({"member", "update", self, "--peer-urls=" + peer, "-w", "protobuf"});
}

TEST_F(CliClusterTest, AlarmsWhenThereAreNone) {
  for (const std::string format : {"simple", "json", "table"}) {
    ExpectSameNormalized({"alarm", "list", "-w", format}, [](const std::string& s) {
      return Replace(s, "\"revision\":[0-9]+,", "");
    });
    ExpectSameOutput({"alarm", "disarm", "-w", format});
  }
  // etcd 3.4 sends no header with alarms: etcdctl's protobuf printer marshals
  // none, and its fields printer panics on the missing header (exit code 2;
  // ours prints the panic's first line, not Go's goroutine dump).
  for (const std::string command : {"list", "disarm"}) {
    ExpectSameOutput({"alarm", command, "-w", "protobuf"});
    ExpectSameNormalized({"alarm", command, "-w", "fields"},
                         [](const std::string& s) { return ::etcdgrpc::testing::FirstLine(s); });
  }
  ExpectSameOutput({"alarm", "list", "x"});
  ExpectSameOutput({"alarm", "disarm", "x"});
}

TEST_F(CliClusterTest, Defrag) {
  ExpectSameOutput({"defrag"});
  ExpectSameOutput({"defrag", "--cluster"});
  ExpectSameOutput({"defrag", "-w", "json"});
}

TEST_F(CliClusterTest, SnapshotSaveAndStatus) {
  const std::string ours = Temp("ours.db"), theirs = Temp("theirs.db");
  RunResult cli_save = Cli({"snapshot", "save", ours});
  RunResult ctl_save = Ctl({"snapshot", "save", theirs});
  EXPECT_EQ(cli_save.exit_code, 0) << cli_save;
  EXPECT_EQ(cli_save.out, "Snapshot saved at " + ours + "\n");
  EXPECT_EQ(ctl_save.out, "Snapshot saved at " + theirs + "\n");
  struct stat info;
  EXPECT_NE(stat((ours + ".part").c_str(), &info), 0);
  // Each tool reads both files alike.
  for (const std::string& file : {ours, theirs}) {
    for (const std::string format : {"simple", "json", "table", "fields", "protobuf"}) {
      ExpectSameOutput({"snapshot", "status", file, "-w", format});
    }
  }
  std::filesystem::remove(ours);
  std::filesystem::remove(theirs);
}

TEST_F(CliClusterTest, SnapshotErrors) {
  const std::string garbage = Temp("garbage.db");
  {
    std::FILE* f = std::fopen(garbage.c_str(), "w");
    ASSERT_NE(f, nullptr);
    const std::string junk(3 * 4096, 'j');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"snapshot", "save"},
           {"snapshot", "save", "a", "b"},
           {"snapshot", "save", "/nonexistent-etcdgrpc-dir/x.db"},
           {"snapshot", "status"},
           {"snapshot", "status", "/nonexistent-etcdgrpc-dir/x.db"},
           {"snapshot", "status", garbage},
       }) {
    ExpectSameOutput(args);
  }
  // More than one endpoint: refused before connecting (exit code 5).
  for (const char* program : {kCli, kEtcdctl}) {
    RunResult two = ::etcdgrpc::testing::RunProgram(
        {program, "--endpoints=" + etcd_->ClientEndpoint(0) + ",127.0.0.1:1", "snapshot", "save",
         Temp("two.db")},
        "");
    EXPECT_EQ(two.exit_code, 5) << program << two;
    EXPECT_EQ(::etcdgrpc::testing::WithoutLogLines(two.err),
              "Error: snapshot must be requested to one selected node, not multiple [" +
                  etcd_->ClientEndpoint(0) + " 127.0.0.1:1]\n");
  }
  std::filesystem::remove(garbage);
}

TEST_F(CliClusterTest, MoveLeaderOnOneMember) {
  ExpectSameOutput({"move-leader"});
  ExpectSameOutput({"move-leader", "zz"});
  ExpectSameOutput({"move-leader", "1", "2"});
  ExpectSameOutput({"move-leader", MemberIdHex()});
  // No fields printer in etcdctl: refused after the (no-op) move.
  ExpectSameOutput({"move-leader", MemberIdHex(), "-w", "fields"});
  ExpectSameOutput({"move-leader", MemberIdHex(), "-w", "protobuf"});
}

TEST_F(CliClusterTest, EndpointHealth) {
  const auto no_time = [](const std::string& s) {
    return Replace(s, "took( = |\":\"|[ |]+)[0-9.]+[a-zµ]+", "took$1T");
  };
  ExpectSameNormalized({"endpoint", "health"}, no_time);
  ExpectSameNormalized({"endpoint", "health", "--cluster"}, no_time);
  ExpectSameNormalized({"endpoint", "health", "-w", "json"}, no_time);
  ExpectSameNormalized({"endpoint", "health", "-w", "fields"}, [](const std::string& s) {
    return Replace(s, "\"Took\" : [0-9.]+[a-zµ]+", "\"Took\" : T");
  });
  ExpectSameOutput({"endpoint", "health", "-w", "protobuf"});  // no printer: refused
  // The table's took column: its width follows the duration's text.
  RunResult table = Cli({"endpoint", "health", "-w", "table"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_THAT(table.out, HasSubstr("| " + etcd_->ClientEndpoint(0) + " |   true |"));
  const std::string dead = ClosedEndpoint();
  for (const char* program : {kCli, kEtcdctl}) {
    RunResult unhealthy = ::etcdgrpc::testing::RunProgram(
        {program, "--endpoints=" + dead, "--command-timeout=1s", "endpoint", "health"}, "");
    EXPECT_EQ(unhealthy.exit_code, 1) << program << unhealthy;
    EXPECT_EQ(::etcdgrpc::testing::WithoutLogLines(unhealthy.err),
              dead +
                  " is unhealthy: failed to commit proposal: context deadline exceeded\n"
                  "Error: unhealthy cluster\n")
        << program;
  }
}

TEST_F(CliClusterTest, EndpointHashKVAndStatusCluster) {
  ExpectSameOutput({"endpoint", "hashkv"});
  ExpectSameOutput({"endpoint", "hashkv", "--cluster"});
  ExpectSameOutput({"endpoint", "hashkv", "-w", "json"});
  ExpectSameOutput({"endpoint", "hashkv", "-w", "table"});
  ExpectSameOutput({"endpoint", "hashkv", "-w", "fields"});
  ExpectSameOutput({"endpoint", "hashkv", "-w", "protobuf"});  // no printer: refused
  ExpectSameOutput({"endpoint", "hashkv", "--rev=1"});
  ExpectSameOutput({"endpoint", "hashkv", "--rev=100000000"});
  // The endpoint column of status --cluster: the member's client URL.
  RunResult ours = Cli({"endpoint", "status", "--cluster"});
  RunResult ctl = Ctl({"endpoint", "status", "--cluster"});
  EXPECT_EQ(ours.exit_code, 0) << ours;
  EXPECT_EQ(ours.out.substr(0, ours.out.find(',')), ctl.out.substr(0, ctl.out.find(',')));
}

}  // namespace
}  // namespace etcdgrpc
