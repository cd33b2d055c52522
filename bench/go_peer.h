// The Go peer (bench/peers/go): our workloads through etcd's Go client, in its own process,
// driven block by block so that its blocks interleave with ours and the raw stub's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "piped_process.h"
#include "report.h"
#include "scenario.h"
#include "sequential.h"

namespace etcdgrpc::bench {

struct GoPeerPlan {
  // One of the peer's workloads: put_seq, keepalive_stream, keepalive_once_concurrent,
  // watch_batched, watch_single. Its line is "<workload>_go_clientv3".
  std::string workload = {};
  std::string prefix = {};           // keys it writes or watches
  std::vector<int64_t> leases = {};  // the keep-alive workloads' leases (granted by the scenario)
  // Whether the interleaving warms up (RunBlocksInterleaved's warmup_ops > 0): the peer's
  // first block is then not measured.
  bool warmup = true;
};

class GoPeer {
 public:
  // The peer started against env.endpoints; nullptr when none is configured (no Go on the
  // machine that built the bench, or --go_peer=""), which the scenarios take as "run without".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GoPeer>> Start(const BenchEnv& env,
                                                                     GoPeerPlan plan);
  GoPeer(const GoPeer&) = delete;
  GoPeer& operator=(const GoPeer&) = delete;
  // Closes its stdin (it exits on that) and reaps it; SIGKILL if it is still there after 10 s.
  ~GoPeer() = default;

  // The peer's workload name and the one of its line.
  const std::string& workload() const { return plan_.workload; }
  std::string line_workload() const { return plan_.workload + "_go_clientv3"; }

  // Sets up what only a block needs (the watch, created before this returns).
  [[nodiscard]] absl::Status Prepare();
  // `count` operations in the peer (the first block a warm-up if the plan says so).
  [[nodiscard]] absl::Status Block(int64_t count);
  // Block() in two halves, for work that starts something the block waits for (the watch
  // scenarios' writer): the peer starts measuring before anything is written.
  [[nodiscard]] absl::Status StartBlock(int64_t count);
  [[nodiscard]] absl::Status AwaitBlock();
  void Finish();
  // Prints the peer's line of its measured blocks and returns its figures, with the etcd
  // server's CPU per operation from `ours` (this process's measurement of the same blocks).
  [[nodiscard]] absl::StatusOr<ReportFigures> Report(const Measurement& ours);

  // A BlockRun whose blocks are Prepare() + Block() + Finish() of this peer, which must
  // outlive it.
  BlockRun Run();

 private:
  GoPeer(PipedProcess process, GoPeerPlan plan)
      : process_(std::move(process)), plan_(std::move(plan)) {}
  // Sends one command line and returns the peer's one-line answer; "error …" as an error.
  absl::StatusOr<std::string> Command(absl::string_view command, absl::Duration timeout);
  absl::Status Send(absl::string_view command);
  absl::StatusOr<std::string> Answer(absl::string_view command, absl::Duration timeout);

  PipedProcess process_;
  GoPeerPlan plan_;
  int64_t blocks_ = 0;
  std::string pending_;  // the command StartBlock() sent
};

}  // namespace etcdgrpc::bench
