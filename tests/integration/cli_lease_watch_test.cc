// The etcdgrpc command line tool's lease and watch commands against a real
// etcd, next to etcdctl 3.4: the same output byte for byte (lease ids aside
// where each tool grants its own), the same errors and exit codes, and watches
// and keep-alives that end like etcdctl's on SIGINT/SIGTERM, within a second.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_runner.h"
#include "cli_suite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "nlohmann/json.hpp"
#include "registry_process.h"
#include "status_matchers.h"

namespace etcdgrpc {
namespace {

using ::etcdgrpc::registry::testing::ChildProcess;
using ::etcdgrpc::testing::CliSuite;
using ::etcdgrpc::testing::FirstLine;
using ::etcdgrpc::testing::IsOk;
using ::etcdgrpc::testing::RunProgram;
using ::etcdgrpc::testing::RunResult;
using ::etcdgrpc::testing::WithoutLogLines;
using ::testing::MatchesRegex;

// How long a watch or keep-alive may take to end after SIGINT/SIGTERM.
constexpr absl::Duration kExitBound = absl::Seconds(1);

std::string Base64(const std::string& bytes) { return absl::Base64Escape(bytes); }

// A long-running command (watch, keep-alive): its stdout collected as it
// comes, then signalled and reaped within a bound. Killed and reaped by
// ChildProcess if the test fails first.
class Running {
 public:
  Running(std::string name, const std::vector<std::string>& argv)
      : name_(std::move(name)), child_(argv) {}

  const std::string& name() const { return name_; }

  // Reads stdout until it contains `text`; false after `timeout` or at the
  // end of the output.
  bool WaitFor(const std::string& text, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(out_, text)) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      std::optional<std::string> line = child_.ReadLine(left);
      if (!line) return absl::StrContains(out_, text);
      absl::StrAppend(&out_, *line, "\n");
    }
    return true;
  }

  void Signal(int sig) { child_.Signal(sig); }

  // Waits for the exit until `deadline`; nullopt if still running then.
  std::optional<int> WaitUntil(absl::Time deadline) {
    std::optional<int> code = child_.Wait(std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (code) {
      out_ += child_.out();
      err_ = child_.err();
    }
    return code;
  }

  // The whole stdout once exited (what was read so far before).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  std::string name_;
  ChildProcess child_;
  std::string out_;
  std::string err_;
};

// etcdctl and etcdgrpc running the same long-running command.
struct RunningPair {
  std::string what;
  int signal = SIGINT;
  std::unique_ptr<Running> ctl;
  std::unique_ptr<Running> ours;
};

// Sends each pair its signal, then expects both of a pair to end within
// kExitBound with the same stdout, stderr and exit code (128 + the signal:
// etcdctl dies of it).
void StopAndCompare(std::vector<RunningPair>& pairs) {
  for (RunningPair& pair : pairs) {
    pair.ctl->Signal(pair.signal);
    pair.ours->Signal(pair.signal);
  }
  const absl::Time deadline = absl::Now() + kExitBound;
  for (RunningPair& pair : pairs) {
    SCOPED_TRACE(pair.what);
    std::optional<int> ctl_code = pair.ctl->WaitUntil(deadline);
    std::optional<int> our_code = pair.ours->WaitUntil(deadline);
    ASSERT_TRUE(ctl_code.has_value()) << "etcdctl did not end within " << kExitBound;
    ASSERT_TRUE(our_code.has_value()) << "etcdgrpc did not end within " << kExitBound;
    EXPECT_EQ(*our_code, *ctl_code);
    EXPECT_EQ(*our_code, 128 + pair.signal);
    EXPECT_EQ(pair.ours->out(), pair.ctl->out());
    EXPECT_EQ(pair.ours->err(), WithoutLogLines(pair.ctl->err()));
  }
}

// etcd's watcher count (its /metrics), to know when watches are in place.
std::optional<int64_t> WatcherCount(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port)) {
    return std::nullopt;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t got;
      while ((got = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        response.append(buffer, static_cast<size_t>(got));
      }
    }
  }
  close(fd);
  const std::string name = "\netcd_debugging_mvcc_watcher_total ";
  const size_t at = response.find(name);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + name.size();
  int64_t count = 0;
  if (!absl::SimpleAtoi(response.substr(start, response.find('\n', start) - start), &count)) {
    return std::nullopt;
  }
  return count;
}

class CliLeaseWatchTest : public CliSuite {
 protected:
  CliLeaseWatchTest() : CliSuite("/cli-lw/") {}

  static void SetUpTestSuite() {
    // Children inherit an ignored SIGINT (a test run in the background of a
    // script); etcdctl would then ignore it.
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction current = {};
      if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);
      }
    }
    CliSuite::SetUpTestSuite();
  }

  // Leases granted by the test do not outlive it (lease list compares all).
  void TearDown() override {
    for (const std::string& id : granted_) Ctl({"lease", "revoke", id});
  }

  static RunningPair Start(const std::string& what, std::vector<std::string> args, int sig) {
    RunningPair pair;
    pair.what = what + ": " + absl::StrJoin(args, " ");
    pair.signal = sig;
    pair.ctl = std::make_unique<Running>("etcdctl", Argv(kEtcdctl, args));
    pair.ours = std::make_unique<Running>("etcdgrpc", Argv(kCli, args));
    return pair;
  }

  // A lease granted with etcdctl; its hex id.
  std::string Grant(int ttl) {
    RunResult grant = Ctl({"lease", "grant", std::to_string(ttl)});
    EXPECT_EQ(grant.exit_code, 0) << grant;
    std::smatch match;
    static const std::regex kGranted("^lease ([0-9a-f]{16}) granted with TTL\\(\\d+s\\)\n$");
    if (!std::regex_match(grant.out, match, kGranted)) {
      ADD_FAILURE() << grant;
      return "";
    }
    granted_.push_back(match[1]);
    return match[1];
  }
  void CtlPut(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> put = {"put"};
    put.insert(put.end(), args.begin(), args.end());
    RunResult result = Ctl(put, input);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
  // Until etcd counts `count` watchers (false after `timeout`).
  static bool WaitForWatchers(int64_t count, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    std::optional<int64_t> now;
    // etcd 3.4's watcher gauge can go below zero (seen once in a fresh-clone run under
    // load: -1 after the last watch ended): with no watcher wanted, any count <= 0 is none.
    const auto reached = [count](const std::optional<int64_t>& n) {
      return n.has_value() && (count == 0 ? *n <= 0 : *n == count);
    };
    while (!reached(now = WatcherCount(etcd_->ClientEndpoint(0)))) {
      if (absl::Now() >= deadline) {
        ADD_FAILURE() << "etcd has " << (now ? std::to_string(*now) : "?") << " watchers, not "
                      << count;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

  // Like ExpectSameOutput for answers that change with time (a lease's
  // remaining TTL counts down): etcdctl runs before and after etcdgrpc, whose
  // stdout must equal one of the two. `normalize` is applied to every stdout
  // first.
  void ExpectSameOutputOverTime(
      const std::vector<std::string>& args,
      const std::function<std::string(std::string)>& normalize = [](std::string s) { return s; }) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult before = Ctl(args);
    RunResult ours = Cli(args);
    RunResult after = Ctl(args);
    EXPECT_FALSE(ours.timed_out);
    const std::string out = normalize(ours.out);
    EXPECT_TRUE(out == normalize(before.out) || out == normalize(after.out))
        << "etcdctl before: " << before << "\netcdgrpc: " << ours << "\netcdctl after: " << after;
    EXPECT_EQ(ours.err, before.err);
    EXPECT_EQ(ours.exit_code, before.exit_code);
  }

  std::vector<std::string> granted_;
};

// ---- lease ----------------------------------------------------------------

TEST_F(CliLeaseWatchTest, GrantPrintsLikeEtcdctl) {
  // Each tool grants its own lease: the outputs differ in the id only.
  static const std::regex kSimpleId("^lease [0-9a-f]{16} ");
  static const std::regex kJsonId("\"ID\":[0-9]+,");
  for (const char* ttl : {"60", "0"}) {  // 0: etcd grants its minimum TTL
    for (bool json : {false, true}) {
      std::vector<std::string> args = {"lease", "grant", ttl};
      if (json) args.insert(args.end(), {"-w", "json"});
      SCOPED_TRACE(absl::StrJoin(args, " "));
      RunResult ctl = Ctl(args);
      RunResult ours = Cli(args);
      ASSERT_EQ(ctl.exit_code, 0) << ctl;
      ASSERT_EQ(ours.exit_code, 0) << ours;
      EXPECT_EQ(ours.err, "");
      if (json) {
        ASSERT_TRUE(nlohmann::json::accept(ours.out)) << ours;
        const nlohmann::json parsed = nlohmann::json::parse(ours.out);
        granted_.push_back(absl::StrFormat("%016x", parsed["ID"].get<uint64_t>()));
        granted_.push_back(
            absl::StrFormat("%016x", nlohmann::json::parse(ctl.out)["ID"].get<uint64_t>()));
        EXPECT_EQ(std::regex_replace(ours.out, kJsonId, "\"ID\":1,"),
                  std::regex_replace(ctl.out, kJsonId, "\"ID\":1,"));
      } else {
        EXPECT_THAT(ours.out, MatchesRegex("lease [0-9a-f]{16} granted with TTL\\([0-9]+s\\)\n"));
        granted_.push_back(ours.out.substr(6, 16));
        granted_.push_back(ctl.out.substr(6, 16));
        EXPECT_EQ(std::regex_replace(ours.out, kSimpleId, "lease ID "),
                  std::regex_replace(ctl.out, kSimpleId, "lease ID "));
      }
    }
  }
  // etcdctl sees the lease etcdgrpc granted, with its TTL.
  RunResult ours = Cli({"lease", "grant", "77"});
  ASSERT_EQ(ours.exit_code, 0) << ours;
  const std::string id = ours.out.substr(6, 16);
  granted_.push_back(id);
  RunResult ttl = Ctl({"lease", "timetolive", id});
  EXPECT_THAT(ttl.out,
              MatchesRegex("lease " + id + " granted with TTL\\(77s\\), remaining\\(7[67]s\\)\n"));

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "grant"},
           {"lease", "grant", "abc"},
           {"lease", "grant", "1", "2"},
           {"lease", "grant", "99999999999"},  // etcd: too large lease TTL
       }) {
    ExpectSameOutput(args);
  }
}

TEST_F(CliLeaseWatchTest, TimeToLiveIsByteIdenticalToEtcdctl) {
  const std::string id = Grant(600);
  const std::string k1 = prefix_ + "k1";
  const std::string k2 = prefix_ + "k 2";
  CtlPut({"--lease=" + id, k1, "v1"});
  // put --lease works in etcdgrpc too.
  RunResult put = Cli({"put", "--lease=" + id, k2, "v2"});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(put.out, "OK\n");
  // etcd lists a lease's keys in no fixed order.
  const auto sort_keys = [&](std::string out) {
    return absl::StrReplaceAll(
        out, {{absl::StrCat("[", k2, " ", k1, "]"), absl::StrCat("[", k1, " ", k2, "]")},
              {absl::StrCat("[\"", Base64(k2), "\",\"", Base64(k1), "\"]"),
               absl::StrCat("[\"", Base64(k1), "\",\"", Base64(k2), "\"]")}});
  };
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "timetolive", id},
           {"lease", "timetolive", id, "--keys"},
           {"lease", "timetolive", id, "-w", "json"},
           {"lease", "timetolive", "--keys", id, "-w", "json"},
       }) {
    ExpectSameOutputOverTime(args, sort_keys);
  }
  RunResult ours = Cli({"lease", "timetolive", id, "--keys"});
  EXPECT_THAT(ours.out, MatchesRegex("lease " + id +
                                     " granted with TTL\\(600s\\), remaining\\([0-9]+s\\), "
                                     "attached keys\\(\\[.* .* .*\\]\\)\n"));

  // Unknown leases: etcd answers with TTL -1, which both print as expired.
  ASSERT_EQ(Ctl({"lease", "revoke", id}).exit_code, 0);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "timetolive", id},
           {"lease", "timetolive", id, "--keys", "-w", "json"},
           {"lease", "timetolive", "1234"},
           {"lease", "timetolive", "0"},
           {"lease", "timetolive", "0", "-w", "json"},
           {"lease", "timetolive", "--", "-1"},
       }) {
    ExpectSameOutput(args);
  }
  EXPECT_EQ(Cli({"lease", "timetolive", "1234"}).out, "lease 0000000000001234 already expired\n");

  // Malformed or missing ids; a format lease commands have no printer for.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "timetolive"},
           {"lease", "timetolive", "zz"},
           {"lease", "timetolive", "8000000000000000"},  // out of int64 range
           {"lease", "timetolive", "1", "2"},
           {"lease", "timetolive", "1234", "-w", "table"},
       }) {
    ExpectSameOutput(args);
  }
  RunResult bad = Cli({"lease", "timetolive", "zz"});
  EXPECT_EQ(bad.exit_code, 128);
  EXPECT_EQ(bad.err,
            "Error: bad lease ID arg (strconv.ParseInt: parsing \"zz\": invalid syntax), "
            "expecting ID in Hex\n");
}

TEST_F(CliLeaseWatchTest, ListIsByteIdenticalToEtcdctl) {
  const std::string a = Grant(600);
  const std::string b = Grant(900);
  ExpectSameOutputOverTime({"lease", "list"});
  ExpectSameOutputOverTime({"lease", "list", "-w", "json"});
  ExpectSameOutputOverTime({"lease", "list", "-w", "table"});
  RunResult ours = Cli({"lease", "list"});
  EXPECT_THAT(ours.out, ::testing::HasSubstr(a + "\n"));
  EXPECT_THAT(ours.out, ::testing::HasSubstr(b + "\n"));
  EXPECT_THAT(ours.out, MatchesRegex("found [0-9]+ leases\n([0-9a-f]{16}\n)+"));
}

TEST_F(CliLeaseWatchTest, RevokeMatchesEtcdctl) {
  // A lease each, with a key each; revoking deletes the keys.
  const std::string a = Grant(600);
  const std::string b = Grant(600);
  CtlPut({"--lease=" + a, prefix_ + "a", "1"});
  CtlPut({"--lease=" + b, prefix_ + "b", "2"});
  RunResult ctl = Ctl({"lease", "revoke", a});
  RunResult ours = Cli({"lease", "revoke", b});
  EXPECT_EQ(ctl.out, "lease " + a + " revoked\n");
  EXPECT_EQ(ours.out, "lease " + b + " revoked\n");
  EXPECT_EQ(ours.err, ctl.err);
  EXPECT_EQ(ours.exit_code, 0);
  EXPECT_EQ(Ctl({"get", prefix_, "--prefix"}).out, "");

  // -w json: etcd's response; keyless leases, so the revision stays.
  const std::string c = Grant(600);
  const std::string d = Grant(600);
  ctl = Ctl({"lease", "revoke", c, "-w", "json"});
  ours = Cli({"lease", "revoke", d, "-w", "json"});
  EXPECT_EQ(ours.exit_code, 0) << ours;
  EXPECT_EQ(ours.out, ctl.out);
  EXPECT_THAT(ours.out, MatchesRegex("\\{\"header\":\\{\"cluster_id\":[0-9]+,.*\\}\\}\n"));

  // Revoked already (etcd: lease not found), ids etcd never has, malformed.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "revoke", a},
           {"lease", "revoke", d, "-w", "json"},
           {"lease", "revoke", d, "-w", "table"},
           {"lease", "revoke", "0"},
           {"lease", "revoke", "--", "-1"},
           {"lease", "revoke", "zz"},
           {"lease", "revoke"},
           {"lease", "revoke", "1", "2"},
       }) {
    ExpectSameOutput(args);
  }
  RunResult missing = Cli({"lease", "revoke", a});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Error: failed to revoke lease (etcdserver: requested lease not found)\n");
}

TEST_F(CliLeaseWatchTest, KeepAliveOnceMatchesEtcdctl) {
  const std::string id = Grant(600);
  ExpectSameOutputOverTime({"lease", "keep-alive", "--once", id});
  ExpectSameOutputOverTime({"lease", "keep-alive", "--once", id, "-w", "json"});
  EXPECT_EQ(Cli({"lease", "keep-alive", "--once", id}).out,
            "lease " + id + " keepalived with TTL(600)\n");

  ASSERT_EQ(Ctl({"lease", "revoke", id}).exit_code, 0);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"lease", "keep-alive", "--once", id},
           {"lease", "keep-alive", "--once", id, "-w", "json"},
           {"lease", "keep-alive", "--once", id, "-w", "table"},
           {"lease", "keep-alive", "--once", "0"},
           {"lease", "keep-alive", "--once", "zz"},
           {"lease", "keep-alive", "--once"},
       }) {
    ExpectSameOutput(args);
  }
  RunResult missing = Cli({"lease", "keep-alive", "--once", id});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "Error: etcdserver: requested lease not found\n");
}

TEST_F(CliLeaseWatchTest, KeepAliveRenewsUntilInterrupted) {
  // TTL 3: renewed about every second.
  const std::string id = Grant(3);
  const std::string line = "lease " + id + " keepalived with TTL(3)\n";
  std::vector<RunningPair> pairs;
  pairs.push_back(Start("simple, SIGINT", {"lease", "keep-alive", id}, SIGINT));
  pairs.push_back(Start("json, SIGTERM", {"lease", "keep-alive", id, "-w", "json"}, SIGTERM));
  const std::string json_id = absl::StrCat("\"ID\":", std::stoll(id, nullptr, 16), ",");
  for (RunningPair& pair : pairs) {
    const std::string& expected = pair.signal == SIGINT ? line : json_id;
    // A renewal printed by each.
    for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
      ASSERT_TRUE(running->WaitFor(expected, absl::Seconds(10)))
          << running->name() << ": " << running->out();
    }
  }
  for (RunningPair& pair : pairs) {
    for (Running* running : {pair.ctl.get(), pair.ours.get()}) running->Signal(pair.signal);
  }
  const absl::Time deadline = absl::Now() + kExitBound;
  for (RunningPair& pair : pairs) {
    SCOPED_TRACE(pair.what);
    std::optional<int> ctl_code = pair.ctl->WaitUntil(deadline);
    std::optional<int> our_code = pair.ours->WaitUntil(deadline);
    ASSERT_TRUE(ctl_code.has_value());
    ASSERT_TRUE(our_code.has_value()) << "etcdgrpc did not end within " << kExitBound;
    EXPECT_EQ(*our_code, *ctl_code);
    EXPECT_EQ(*our_code, 128 + pair.signal);
    EXPECT_EQ(pair.ours->err(), WithoutLogLines(pair.ctl->err()));
    // As many renewals as happened to be printed, each the same line.
    ASSERT_FALSE(pair.ctl->out().empty());
    const std::string first = FirstLine(pair.ctl->out()) + "\n";
    EXPECT_EQ(FirstLine(pair.ours->out()) + "\n", first);
    for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
      std::string rest = running->out();
      while (absl::StartsWith(rest, first)) rest.erase(0, first.size());
      EXPECT_EQ(rest, "") << running->name();
    }
  }
}

TEST_F(CliLeaseWatchTest, KeepAliveEndsWhenTheLeaseIsRevoked) {
  const std::string id = Grant(3);
  const std::string line = "lease " + id + " keepalived with TTL(3)\n";
  const std::string lost = "lease " + id + " expired or revoked.\n";
  RunningPair pair = Start("revoked", {"lease", "keep-alive", id}, SIGTERM);
  ASSERT_TRUE(pair.ctl->WaitFor(line, absl::Seconds(10))) << pair.ctl->out();
  ASSERT_TRUE(pair.ours->WaitFor(line, absl::Seconds(10))) << pair.ours->out();
  ASSERT_EQ(Ctl({"lease", "revoke", id}).exit_code, 0);
  // The next renewal (a TTL/3 later) finds the lease gone.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  std::optional<int> ctl_code = pair.ctl->WaitUntil(deadline);
  std::optional<int> our_code = pair.ours->WaitUntil(deadline);
  ASSERT_TRUE(ctl_code.has_value());
  ASSERT_TRUE(our_code.has_value());
  EXPECT_EQ(*ctl_code, 0);
  EXPECT_EQ(*our_code, 0);
  for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
    SCOPED_TRACE(running->name());
    EXPECT_TRUE(absl::EndsWith(running->out(), line + lost)) << running->out();
    std::string rest = running->out();
    while (absl::StartsWith(rest, line)) rest.erase(0, line.size());
    EXPECT_EQ(rest, lost);
  }
  EXPECT_EQ(pair.ours->err(), WithoutLogLines(pair.ctl->err()));

  // A lease that is gone already: the last line only.
  ExpectSameOutput({"lease", "keep-alive", id});
  ExpectSameOutput({"lease", "keep-alive", id, "-w", "json"});
  ExpectSameOutput({"lease", "keep-alive", "0"});
  ExpectSameOutput({"lease", "keep-alive", "zz"});
  ExpectSameOutput({"lease", "keep-alive"});
  EXPECT_EQ(Cli({"lease", "keep-alive", id}).out, lost);
}

// ---- watch ----------------------------------------------------------------

TEST_F(CliLeaseWatchTest, WatchPrintsTheSameEventsAsEtcdctl) {
  const std::string p = prefix_;
  // No watcher is left from an earlier test.
  ASSERT_TRUE(WaitForWatchers(0));
  std::vector<RunningPair> pairs;
  pairs.push_back(Start("prefix", {"watch", "--prefix", p}, SIGINT));
  pairs.push_back(Start("prefix json", {"watch", "--prefix", p, "-w", "json"}, SIGTERM));
  pairs.push_back(Start("prev-kv", {"watch", p, "--prefix", "--prev-kv"}, SIGINT));
  pairs.push_back(
      Start("prev-kv json", {"watch", p, "--prefix", "--prev-kv", "-w", "json"}, SIGINT));
  pairs.push_back(Start("key", {"watch", p + "a"}, SIGTERM));
  pairs.push_back(Start("range", {"watch", p + "a", p + "c"}, SIGINT));
  pairs.push_back(Start("hex", {"--hex", "watch", "--prefix", p}, SIGTERM));
  // Events from now on: wait until etcd has every watch.
  ASSERT_TRUE(WaitForWatchers(2 * static_cast<int64_t>(pairs.size())));

  CtlPut({p + "a", "1"});
  CtlPut({p + "a", "2"});
  CtlPut({p + "b", ""});
  CtlPut({p + "c"}, std::string("bin\0\xff\n", 6));
  CtlPut({p + "b/deep", "two\nlines"});
  ASSERT_EQ(Ctl({"del", p + "a"}).exit_code, 0);
  // One revision, three events, one response.
  ASSERT_EQ(Ctl({"del", p + "b", p + "d"}).exit_code, 0);
  CtlPut({p + "a", "the-end"});
  for (RunningPair& pair : pairs) {
    SCOPED_TRACE(pair.what);
    const bool json = absl::StrContains(pair.what, "json");
    const bool hex = absl::StrContains(pair.what, "hex");
    const std::string marker = json  ? Base64("the-end")
                               : hex ? "\\x74\\x68\\x65\\x2d\\x65\\x6e\\x64\n"
                                     : "\nthe-end\n";
    for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
      ASSERT_TRUE(running->WaitFor(marker, absl::Seconds(10)))
          << running->name() << ": " << running->out();
    }
  }
  StopAndCompare(pairs);
  // What etcdctl printed (and so etcdgrpc too), for the simple prefix watch.
  EXPECT_EQ(pairs[0].ours->out(),
            absl::StrCat("PUT\n", p, "a\n1\nPUT\n", p, "a\n2\nPUT\n", p, "b\n\nPUT\n", p, "c\n",
                         std::string("bin\0\xff\n", 6), "\nPUT\n", p, "b/deep\ntwo\nlines\n",
                         "DELETE\n", p, "a\n\nDELETE\n", p, "b\n\nDELETE\n", p, "b/deep\n\n",
                         "DELETE\n", p, "c\n\nPUT\n", p, "a\nthe-end\n"));
}

TEST_F(CliLeaseWatchTest, WatchFromARevisionMatchesEtcdctl) {
  const std::string p = prefix_;
  CtlPut({p + "x", "1"});
  const int64_t first = Revision();
  CtlPut({p + "y", "2"});
  CtlPut({p + "x", "3"});
  ASSERT_EQ(Ctl({"del", p + "y"}).exit_code, 0);
  CtlPut({p + "z", "caught-up"});
  const std::string rev = std::to_string(first);
  std::vector<RunningPair> pairs;
  pairs.push_back(Start("rev", {"watch", "--prefix", p, "--rev", rev}, SIGINT));
  pairs.push_back(
      Start("rev json", {"watch", "--prefix", p, "--rev=" + rev, "-w", "json"}, SIGTERM));
  pairs.push_back(
      Start("rev prev-kv", {"watch", "--prefix", p, "--rev", rev, "--prev-kv"}, SIGTERM));
  pairs.push_back(Start("rev prev-kv json",
                        {"watch", "--rev", rev, "--prefix", p, "--prev-kv", "-w", "json"}, SIGINT));
  pairs.push_back(Start("rev key", {"watch", p + "x", "--rev", rev}, SIGINT));
  // Past events first (etcd sends them in one response), then live ones.
  for (const std::string& value : {std::string("caught-up"), std::string("live")}) {
    if (value == "live") CtlPut({p + "x", "live"});
    for (RunningPair& pair : pairs) {
      SCOPED_TRACE(pair.what);
      if (value == "caught-up" && absl::StrContains(pair.what, "key")) continue;
      const std::string marker =
          absl::StrContains(pair.what, "json") ? Base64(value) : "\n" + value + "\n";
      for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
        ASSERT_TRUE(running->WaitFor(marker, absl::Seconds(10)))
            << running->name() << ": " << running->out();
      }
    }
  }
  StopAndCompare(pairs);
  EXPECT_EQ(pairs[2].ours->out(),
            absl::StrCat("PUT\n", p, "x\n1\nPUT\n", p, "y\n2\nPUT\n", p, "x\n1\n", p, "x\n3\n",
                         "DELETE\n", p, "y\n2\n", p, "y\n\nPUT\n", p, "z\ncaught-up\nPUT\n", p,
                         "x\n3\n", p, "x\nlive\n"));
}

TEST_F(CliLeaseWatchTest, WatchFromACompactedRevisionEndsLikeEtcdctl) {
  const std::string p = prefix_;
  CtlPut({p + "k", "1"});
  CtlPut({p + "k", "2"});
  const int64_t revision = Revision();
  ASSERT_EQ(Ctl({"compaction", std::to_string(revision)}).exit_code, 0);
  // etcd cancels the watch: etcdctl reports it and exits with 5.
  ExpectSameOutput({"watch", "--prefix", p, "--rev", std::to_string(revision - 1)});
  ExpectSameOutput({"watch", "--prefix", p, "--rev", "1", "-w", "json"});
  RunResult ours = Cli({"watch", p + "k", "--rev=1"});
  EXPECT_EQ(ours.exit_code, 5);
  EXPECT_EQ(ours.out, "");
  EXPECT_EQ(ours.err,
            "watch was canceled (etcdserver: mvcc: required revision has been compacted)\n"
            "Error: watch is canceled by the server\n");
}

TEST_F(CliLeaseWatchTest, WatchArgumentErrorsMatchEtcdctl) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"watch"},
           {"watch", "a", "b", "--prefix"},
       }) {
    ExpectSameOutput(args);
  }
  // etcdctl's environment variables for the key and range end.
  for (const std::vector<std::string>& env : std::vector<std::vector<std::string>>{
           {"ETCDCTL_WATCH_RANGE_END=z"}, {"ETCDCTL_WATCH_KEY=k"},  // and a key argument
       }) {
    SCOPED_TRACE(env.front());
    const auto run = [&](const char* program) {
      std::vector<std::string> argv = {"/usr/bin/env"};
      argv.insert(argv.end(), env.begin(), env.end());
      argv.push_back(program);
      argv.push_back("--endpoints=" + etcd_->EndpointsFlag());
      argv.insert(argv.end(), {"watch", "k"});
      RunResult result = RunProgram(argv, "", absl::Seconds(10));
      result.err = WithoutLogLines(result.err);
      return result;
    };
    RunResult ctl = run(kEtcdctl);
    RunResult ours = run(kCli);
    EXPECT_EQ(ours.exit_code, ctl.exit_code) << ctl << ours;
    EXPECT_EQ(ours.out, ctl.out);
    EXPECT_EQ(ours.err, ctl.err);
    EXPECT_EQ(ours.exit_code, 128);
  }
  // A bad flag value: usage (its text differs) and the same error line.
  RunResult ctl = Ctl({"watch", "--rev", "abc", "k"});
  RunResult ours = Cli({"watch", "--rev", "abc", "k"});
  EXPECT_EQ(ours.exit_code, ctl.exit_code);
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_EQ(ours.err, FirstLine(ctl.err) + "\n");
}

// A watch started with SIGINT and SIGTERM ignored (a background job of a
// script ignores SIGINT): etcdctl's watch never calls signal.Notify, so Go
// keeps the SIG_IGN of SIGINT and a SIGINT changes nothing, but it takes
// SIGTERM whatever it inherited and dies of it. etcdgrpc must do the same.
TEST_F(CliLeaseWatchTest, WatchStartedWithSignalsIgnoredTakesThemAsEtcdctl) {
  const std::string p = prefix_ + "ign/";
  ASSERT_TRUE(WaitForWatchers(0));
  // sh sets SIG_IGN, which exec keeps.
  const auto ignoring_sigint = [](std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/bin/sh", "-c", "trap '' INT TERM; exec \"$@\"", "sh"});
    return argv;
  };
  const std::vector<std::string> args = {"watch", "--prefix", p};
  RunningPair pair;
  pair.what = "watch, SIGINT and SIGTERM ignored";
  pair.signal = SIGTERM;
  pair.ctl = std::make_unique<Running>("etcdctl", ignoring_sigint(Argv(kEtcdctl, args)));
  pair.ours = std::make_unique<Running>("etcdgrpc", ignoring_sigint(Argv(kCli, args)));
  ASSERT_TRUE(WaitForWatchers(2));
  pair.ctl->Signal(SIGINT);
  pair.ours->Signal(SIGINT);
  // Both still watch: the event after the SIGINT reaches both.
  CtlPut({p + "k", "after-sigint"});
  for (Running* running : {pair.ctl.get(), pair.ours.get()}) {
    ASSERT_TRUE(running->WaitFor("\nafter-sigint\n", absl::Seconds(10)))
        << running->name() << ": " << running->out();
  }
  std::vector<RunningPair> pairs;
  pairs.push_back(std::move(pair));
  StopAndCompare(pairs);
}

// etcdctl 3.4 has no --progress-notify; etcdgrpc prints what etcdctl 3.5
// does. Needs an etcd that sends progress notifications often.
TEST_F(CliLeaseWatchTest, WatchProgressNotify) {
  testing::LocalEtcdOptions options;
  options.extra_flags = {"--experimental-watch-progress-notify-interval=300ms"};
  absl::StatusOr<std::unique_ptr<testing::LocalEtcd>> etcd = testing::LocalEtcd::Start(options);
  ASSERT_THAT(etcd, IsOk());
  const std::string endpoints = "--endpoints=" + (*etcd)->EndpointsFlag();
  for (bool json : {false, true}) {
    SCOPED_TRACE(json ? "json" : "simple");
    std::vector<std::string> argv = {kCli,       endpoints, "watch",
                                     "--prefix", prefix_,   "--progress-notify"};
    if (json) argv.insert(argv.end(), {"-w", "json"});
    Running ours("etcdgrpc", argv);
    ASSERT_TRUE(ours.WaitFor("progress notify: ", absl::Seconds(10))) << ours.out();
    if (json) {
      ASSERT_TRUE(ours.WaitFor("\"Events\":[]", absl::Seconds(5))) << ours.out();
    }
    ours.Signal(SIGINT);
    std::optional<int> code = ours.WaitUntil(absl::Now() + kExitBound);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGINT);
    EXPECT_EQ(ours.err(), "");
    const std::string progress = json ? "progress notify: [0-9]+\n\\{\"Header\":\\{\"cluster_id\":"
                                        "[0-9]+,\"member_id\":[0-9]+,\"revision\":[0-9]+,"
                                        "\"raft_term\":[0-9]+\\},\"Events\":\\[\\],"
                                        "\"CompactRevision\":0,\"Canceled\":false,"
                                        "\"Created\":false\\}\n"
                                      : "progress notify: [0-9]+\n";
    EXPECT_THAT(ours.out(), MatchesRegex("(" + progress + ")+"));
  }
}

}  // namespace
}  // namespace etcdgrpc
