#include "go_peer.h"

#include <cstdio>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace etcdgrpc::bench {
namespace {

// A command may take as long as a block of the slowest workload (10,000 Go KeepAliveOnce calls
// on a loaded VM); a peer silent for this long is stuck.
constexpr absl::Duration kCommandTimeout = absl::Seconds(300);

}  // namespace

absl::StatusOr<std::unique_ptr<GoPeer>> GoPeer::Start(const BenchEnv& env, GoPeerPlan plan) {
  if (env.go_peer.empty()) return nullptr;
  absl::StatusOr<PipedProcess> process = PipedProcess::Spawn(
      {env.go_peer, absl::StrCat("-endpoints=", absl::StrJoin(env.endpoints, ",")),
       absl::StrCat("-workload=", plan.workload), absl::StrCat("-prefix=", plan.prefix),
       absl::StrCat("-leases=", absl::StrJoin(plan.leases, ","))},
      "the Go peer", absl::Seconds(10));
  if (!process.ok()) return process.status();
  return std::unique_ptr<GoPeer>(new GoPeer(*std::move(process), std::move(plan)));
}

absl::StatusOr<std::string> GoPeer::Command(absl::string_view command, absl::Duration timeout) {
  if (absl::Status s = Send(command); !s.ok()) return s;
  return Answer(command, timeout);
}

absl::Status GoPeer::Send(absl::string_view command) { return process_.WriteLine(command); }

absl::StatusOr<std::string> GoPeer::Answer(absl::string_view command, absl::Duration timeout) {
  absl::StatusOr<std::string> answer = process_.ReadLine(timeout);
  if (absl::IsDeadlineExceeded(answer.status())) {
    return absl::DeadlineExceededError(absl::StrCat("the Go peer did not answer ", command));
  }
  if (!answer.ok()) return answer.status();
  if (absl::StartsWith(*answer, "error ")) {
    return absl::InternalError(absl::StrCat("Go peer (", command, "): ", answer->substr(6)));
  }
  return answer;
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

absl::StatusOr<ReportFigures> GoPeer::Report(const Measurement& ours) {
  absl::StatusOr<std::string> line =
      Command(absl::StrCat("report ", line_workload()), kCommandTimeout);
  if (!line.ok()) return line.status();
  absl::StatusOr<ReportFigures> figures = ParseReportLine(*line);
  if (!figures.ok()) return figures.status();
  if (std::optional<std::string> etcd_cpu = EtcdCpuPerOp(ours, figures->ops)) {
    absl::StrAppend(&*line, " etcd_cpu_us_per_op=", *etcd_cpu);
    figures->extra.emplace_back("etcd_cpu_us_per_op", *std::move(etcd_cpu));
  }
  std::printf("%s\n", line->c_str());
  std::fflush(stdout);
  return figures;
}

BlockRun GoPeer::Run() {
  return {.report = {.peer = "go-clientv3", .workload = line_workload()},
          .block = [this](int64_t count, Measurement&) { return Block(count); },
          .prepare = [this](int64_t) { return Prepare(); },
          .finish = [this] { Finish(); },
          .external_report = [this](const Measurement& ours) { return Report(ours); }};
}

}  // namespace etcdgrpc::bench
