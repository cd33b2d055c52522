// `lease keep-alive <leaseID> [--once]`: renews a lease once, or keeps it
// alive until SIGINT/SIGTERM or until it is lost, printing every renewal.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/global_flags.h"
#include "cli/json_format.h"
#include "cli/lease_id.h"
#include "cli/printers.h"
#include "cli/protobuf_format.h"
#include "cli/signals.h"
#include "cli/simple_format.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {

// Collects what the client's threads report and wakes the main thread, which
// does the printing: the listener never blocks on stdout.
class RenewalQueue final : public LeaseListener {
 public:
  explicit RenewalQueue(SignalWaiter& waiter) : waiter_(waiter) {}

  void OnRenewed(int64_t /*lease_id*/, int64_t ttl) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ttls_.push_back(ttl);
    }
    waiter_.Wake();
  }
  void OnLost(int64_t /*lease_id*/, const LeaseLoss& /*loss*/) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      lost_ = true;
    }
    waiter_.Wake();
  }

  // The TTLs of the renewals since the last call, in order.
  std::vector<int64_t> TakeRenewals() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(ttls_, {});
  }
  bool lost() {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }

 private:
  SignalWaiter& waiter_;
  std::mutex mu_;  // guards ttls_ and lost_ (std::mutex: no thread-safety annotations)
  std::vector<int64_t> ttls_;
  bool lost_ = false;
};

class LeaseKeepAliveCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("leaseID", args_, "<leaseID> in hexadecimal")->type_name("");
    app.add_flag("--once", once_,
                 "Resets the keep-alive time to its original value and exits immediately");
    app.footer(
        "Without --once: prints every renewal until SIGINT or SIGTERM (then ends by that signal, "
        "as etcdctl does) or until the lease expires or is revoked.");
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "lease keep-alive command needs lease ID as argument");
    }
    absl::StatusOr<int64_t> id = ParseLeaseIdArg(args_[0]);
    if (!id.ok()) return id.status();
    // -w table: etcdctl fails when it has something to print (see below).
    return once_ ? RunOnce(env, *id) : RunUntilLost(env, *id);
  }

 private:
  static absl::Status RunOnce(CommandEnv& env, int64_t id) {
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    // etcd has no lease with an id <= 0 (the client library refuses them).
    if (id <= 0) return CliError(kExitBadConnection, kLeaseNotFound);
    absl::StatusOr<LeaseKeepAliveResult> result = (*client)->KeepAliveOnce(id);
    if (!result.ok()) return CliError(kExitBadConnection, KeepAliveErrorText(result.status()));
    return KeepAlivePrinters().Print(env, *result);
  }

  static Printers<LeaseKeepAliveResult> KeepAlivePrinters() {
    return {
        .simple = [](const LeaseKeepAliveResult& r) { return SimpleLeaseKeepAlive(r.id, r.ttl); },
        .json = JsonLeaseKeepAlive,
        .table = nullptr,
        .fields = FieldsLeaseKeepAlive,
        .protobuf = [](const LeaseKeepAliveResult& r) { return ProtobufHeaderOnly(r.header); }};
  }

  static absl::Status RunUntilLost(CommandEnv& env, int64_t id) {
    // Before the client exists, so that its threads start with the signals
    // blocked.
    SignalWaiter signals;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    const Printers<LeaseKeepAliveResult> printers = KeepAlivePrinters();
    const bool simple = env.format() == OutputFormat::kSimple;
    const bool unsupported = !printers.Check(env.format()).ok();
    // etcdctl prints its last line with the simple printer only.
    const std::string lost_line = simple ? SimpleLeaseLost(id) : "";
    // etcd has no lease with an id <= 0: lost at once, as etcd would answer.
    if (id <= 0) {
      env.Print(lost_line);
      return absl::OkStatus();
    }
    // Renewals reach the listener without their response header; the other
    // formats print the header of a TimeToLive read at the start (same member).
    ResponseHeader header;
    if (!simple && !unsupported) {
      absl::StatusOr<LeaseTimeToLiveResult> ttl = (*client)->TimeToLive(id);
      if (!ttl.ok()) return CliError(kExitBadConnection, ErrorText(ttl.status()));
      header = ttl->header;
    }
    RenewalQueue queue(signals);
    absl::StatusOr<KeptLease> kept = (*client)->Keep(id, &queue);
    if (!kept.ok()) return CliError(kExitBadConnection, KeepAliveErrorText(kept.status()));
    // Like etcdctl (clientv3's first keep-alive time-out): a lease whose first
    // renewal is not answered within the dial time-out plus a second counts as
    // lost. After that the client reports a loss by the lease's own deadline.
    absl::StatusOr<absl::Duration> dial_timeout =
        ParseDurationFlag("dial-timeout", env.flags().dial_timeout);
    const absl::Time first_deadline =
        absl::Now() + (dial_timeout.ok() ? *dial_timeout : absl::Seconds(2)) + absl::Seconds(1);
    bool answered = false;
    bool lost = false;
    bool interrupted = false;
    while (!lost) {
      const absl::Duration wait =
          answered ? absl::InfiniteDuration() : first_deadline - absl::Now();
      if (signals.Wait(wait)) {
        interrupted = true;
        break;
      }
      std::vector<int64_t> renewals = queue.TakeRenewals();
      if (unsupported && !renewals.empty()) {
        kept->Stop();
        return FormatNotSupported(env.format());
      }
      for (int64_t ttl : renewals) {
        answered = true;
        (void)printers.Print(env, LeaseKeepAliveResult{header, id, ttl});
      }
      env.Flush();
      lost = queue.lost() || (!answered && absl::Now() >= first_deadline);
    }
    kept->Stop();
    if (interrupted) {
      // Like etcdctl, which dies of the signal; after a clean shutdown.
      client->reset();
      SignalWaiter::TerminateBy(signals.signal());
    }
    env.Print(lost_line);
    return absl::OkStatus();
  }

  // etcd's message as clientv3 reports it (the client library explains a
  // missing lease at more length).
  static std::string KeepAliveErrorText(const absl::Status& status) {
    return IsLeaseNotFound(status) ? std::string(kLeaseNotFound) : ErrorText(status);
  }

  static constexpr char kLeaseNotFound[] = "etcdserver: requested lease not found";

  std::vector<std::string> args_;
  bool once_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"lease", "keep-alive"}, .summary = "Keeps leases alive (renew)", .make = [] {
       return std::make_unique<LeaseKeepAliveCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
