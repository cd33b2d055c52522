// `elect <election-name> [proposal]`: campaigns with the proposal (Go's
// concurrency.Election layout, so it runs against etcdctl's elect), prints
// the leader key and value once elected and resigns on SIGINT/SIGTERM; with
// -l, prints every leader (key and value) until interrupted.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/interruptible.h"
#include "cli/signals.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/session.h"

namespace etcdgrpc::cli {
namespace {

// Collects the leaders the observation hears and wakes the main thread, which
// prints them: the listener never blocks on stdout.
class LeaderQueue final : public concurrency::ElectionListener {
 public:
  explicit LeaderQueue(SignalWaiter& waiter) : waiter_(waiter) {}

  void OnLeader(const concurrency::LeaderInfo& leader) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      leaders_.push_back(leader);
    }
    waiter_.Wake();
  }
  void OnEnd(const absl::Status& /*why*/) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
    }
    waiter_.Wake();
  }

  std::vector<concurrency::LeaderInfo> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(leaders_, {});
  }
  bool ready() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_ || !leaders_.empty();
  }
  bool ended() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_;
  }

 private:
  SignalWaiter& waiter_;
  std::mutex mu_;  // guards leaders_ and ended_ (std::mutex: no thread-safety annotations)
  std::vector<concurrency::LeaderInfo> leaders_;
  bool ended_ = false;
};

// Go's GetResponse of one leader.
GetResult AsGetResult(const concurrency::LeaderInfo& leader) {
  GetResult result;
  result.header = leader.header;
  result.kvs.push_back(leader.kv);
  result.count = 1;
  return result;
}

class ElectCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", args_, "<election-name> [proposal]")->type_name("");
    app.add_flag("-l,--listen", listen_, "observation mode");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1 && args_.size() != 2) {
      return CliError(kExitBadArgs,
                      "elect takes one election name argument and an optional proposal argument");
    }
    if (args_.size() == 1 && !listen_) {
      return CliError(kExitBadArgs, "no proposal argument but -l not set");
    }
    if (args_.size() == 2 && listen_) {
      return CliError(kExitBadArgs, "proposal given but -l is set");
    }
    // Before the client's threads start. etcdctl's elect calls signal.Notify:
    // a SIGINT ignored at start is taken too.
    SignalWaiter signals({.notify = true});
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    // etcdctl's session: Go's default TTL (60 s).
    absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
        concurrency::Session::Create(**client);
    if (!session.ok()) return CliError(kExitError, ErrorText(session.status()));
    concurrency::Election election(*session, args_[0]);
    return args_.size() == 1 ? Observe(env, signals, election)
                             : Campaign(env, signals, **client, **session, election, args_[1]);
  }

 private:
  static absl::Status Observe(CommandEnv& env, SignalWaiter& signals,
                              concurrency::Election& election) {
    LeaderQueue queue(signals);
    absl::StatusOr<concurrency::ElectionObservation> observation = election.Observe(&queue);
    if (!observation.ok()) return CliError(kExitError, "elect: observer lost");
    while (true) {
      if (signals.WaitForSignalOr([&] { return queue.ready(); })) {
        observation->Cancel();
        return absl::OkStatus();  // etcdctl ends cleanly (exit 0)
      }
      for (const concurrency::LeaderInfo& leader : queue.Take()) {
        if (absl::Status printed = PrintGetResponse(env, AsGetResult(leader)); !printed.ok()) {
          return printed;
        }
      }
      if (queue.ended()) return CliError(kExitError, "elect: observer lost");
    }
  }

  static absl::Status Campaign(CommandEnv& env, SignalWaiter& signals, Client& client,
                               concurrency::Session& session, concurrency::Election& election,
                               const std::string& proposal) {
    WaitOutcome elected = WaitUnlessInterrupted(signals, [&](const concurrency::Canceller& c) {
      return election.Campaign(proposal, concurrency::WaitOptions{.canceller = &c});
    });
    if (elected.interrupted) {
      if (elected.status.ok()) (void)election.Resign();
      return CliError(kExitError, kContextCanceled);
    }
    if (!elected.status.ok()) return CliError(kExitError, ErrorText(elected.status));
    absl::StatusOr<GetResult> leader = client.Get(election.key());
    if (!leader.ok()) return CliError(kExitError, ErrorText(leader.status()));
    if (absl::Status printed = PrintGetResponse(env, *leader); !printed.ok()) {
      (void)election.Resign();
      return printed;
    }
    std::atomic<bool> session_lost{false};
    concurrency::SessionSubscription lost = session.OnLoss([&](const absl::Status&) {
      session_lost = true;
      signals.Wake();
    });
    if (!signals.WaitForSignalOr([&] { return session_lost.load(); })) {
      return CliError(kExitError, "elect: session expired");
    }
    lost.Cancel();
    absl::Status resigned = election.Resign();
    return resigned.ok() ? resigned : CliError(kExitError, ErrorText(resigned));
  }

  std::vector<std::string> args_;
  bool listen_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"elect"}, .summary = "Observes and participates in leader election", .make = [] {
       return std::make_unique<ElectCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
