// The fixture of the CLI tests that run the etcdgrpc command line tool next to etcdctl against
// one etcd started for the suite: either tool with that etcd's endpoints, their outputs
// compared, and a key prefix per test. Every test is skipped when etcdctl is not installed.
// Needs ETCDGRPC_CLI (the etcdgrpc binary's path) defined for the test target.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli_runner.h"
#include "gtest/gtest.h"
#include "local_etcd.h"
#include "nlohmann/json.hpp"
#include "status_matchers.h"

#ifndef ETCDGRPC_CLI
#error "cli_suite.h needs ETCDGRPC_CLI, the etcdgrpc binary's path"
#endif

namespace etcdgrpc::testing {

class CliSuite : public ::testing::Test {
 protected:
  static constexpr char kCli[] = ETCDGRPC_CLI;
  static constexpr char kEtcdctl[] = "/usr/bin/etcdctl";

  // Each test's prefix_ is "<prefix_root><test name>/".
  explicit CliSuite(std::string prefix_root) : prefix_root_(std::move(prefix_root)) {}

  // Starts the suite's etcd (etcdctl speaks API v3 to it).
  static void SetUpTestSuite() {
    setenv("ETCDCTL_API", "3", 1);
    absl::StatusOr<std::unique_ptr<LocalEtcd>> etcd = LocalEtcd::Start();
    ASSERT_THAT(etcd, IsOk());
    etcd_ = etcd->release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << "etcdctl not installed";
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = absl::StrCat(prefix_root_, info->name(), "/");
  }

  // `program --endpoints=<the suite's etcd> args...`.
  static std::vector<std::string> Argv(const char* program, std::vector<std::string> args) {
    std::vector<std::string> argv = {program, "--endpoints=" + etcd_->EndpointsFlag()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  static RunResult Cli(std::vector<std::string> args, const std::string& input = "") {
    return RunProgram(Argv(kCli, std::move(args)), input);
  }
  // etcdctl, its log lines dropped from stderr.
  static RunResult Ctl(std::vector<std::string> args, const std::string& input = "") {
    RunResult result = RunProgram(Argv(kEtcdctl, std::move(args)), input);
    result.err = WithoutLogLines(result.err);
    return result;
  }

  // The store's revision, as etcdctl reads it (0, and a test failure, when it cannot).
  int64_t Revision() {
    RunResult get = Ctl({"get", "x", "-w", "json"});
    if (!nlohmann::json::accept(get.out)) {
      ADD_FAILURE() << get;
      return 0;
    }
    return nlohmann::json::parse(get.out)["header"]["revision"].get<int64_t>();
  }

  // Both tools with the same arguments: identical stdout, stderr, exit code.
  void ExpectSameOutput(const std::vector<std::string>& args, const std::string& input = "") {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    RunResult ctl = Ctl(args, input);
    RunResult ours = Cli(args, input);
    EXPECT_FALSE(ours.timed_out);
    EXPECT_EQ(ours.out, ctl.out) << "etcdctl: " << ctl << "\netcdgrpc: " << ours;
    EXPECT_EQ(ours.err, ctl.err);
    EXPECT_EQ(ours.exit_code, ctl.exit_code);
  }

  inline static LocalEtcd* etcd_ = nullptr;
  std::string prefix_;

 private:
  std::string prefix_root_;
};

}  // namespace etcdgrpc::testing
