// `make-mirror [options] <destination>`: copies the keys (under --prefix) to
// another cluster at one revision, then applies every later change there as it
// happens, one transaction per revision; prints how many keys it has written
// every 30 s. Any failure to write ends it with the error (etcdctl's
// make-mirror, clientv3/mirror's syncer).
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/signals.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {

// clientv3/mirror's batch size for the initial copy.
constexpr int64_t kBatchLimit = 1000;
// How often etcdctl prints the running count.
constexpr absl::Duration kReportInterval = absl::Seconds(30);

// The watch's responses, handed to the main thread, which writes them.
class Changes final : public WatchListener {
 public:
  explicit Changes(SignalWaiter& waiter) : waiter_(waiter) {}

  void OnEvents(const WatchEvents& batch) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(batch.events);
    }
    waiter_.Wake();
  }
  void OnEnd(const WatchEnd& end) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      end_ = end;
    }
    waiter_.Wake();
  }

  std::deque<std::vector<Event>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(batches_, {});
  }
  std::optional<WatchEnd> end() {
    std::lock_guard<std::mutex> lock(mu_);
    return end_;
  }

 private:
  SignalWaiter& waiter_;
  std::mutex mu_;  // guards batches_ and end_
  std::deque<std::vector<Event>> batches_;
  std::optional<WatchEnd> end_;
};

class MakeMirrorCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("destination", args_, "<destination>")->type_name("");
    app.add_option("--prefix", prefix_, "Key-value prefix to mirror")->type_name("STRING");
    app.add_option("--dest-prefix", dest_prefix_,
                   "destination prefix to mirror a prefix to a different prefix in the "
                   "destination cluster")
        ->type_name("STRING");
    app.add_flag("--no-dest-prefix", no_dest_prefix_,
                 "mirror key-values to the root of the destination cluster");
    app.add_option("--dest-cert", dest_cert_,
                   "Identify secure client using this TLS certificate file for the destination "
                   "cluster")
        ->type_name("STRING");
    app.add_option("--dest-key", dest_key_, "Identify secure client using this TLS key file")
        ->type_name("STRING");
    app.add_option("--dest-cacert", dest_cacert_,
                   "Verify certificates of TLS enabled secure servers using this CA bundle")
        ->type_name("STRING");
    app.add_flag("--dest-insecure-transport", dest_insecure_transport_,
                 "Disable transport security for client connections")
        ->capture_default_str();
  }

  absl::Status Run(CommandEnv& env) override {
    if (args_.size() != 1) {
      return CliError(kExitBadArgs, "make-mirror takes one destination argument");
    }
    SignalWaiter signals;
    // The destination first, as etcdctl connects to it first: the global
    // time-outs and keepalive, its own TLS flags, no user.
    GlobalFlags dest_flags = env.flags();
    dest_flags.endpoints = {args_[0]};
    dest_flags.cacert = dest_cacert_;
    dest_flags.cert = dest_cert_;
    dest_flags.key = dest_key_;
    dest_flags.insecure_transport = dest_insecure_transport_;
    dest_flags.insecure_skip_tls_verify = false;
    dest_flags.user.clear();
    dest_flags.password.clear();
    dest_flags.discovery_srv.clear();
    absl::StatusOr<ClientOptions> dest_options = MakeClientOptions(dest_flags);
    if (!dest_options.ok()) return CliError(kExitBadArgs, ErrorText(dest_options.status()));
    absl::StatusOr<std::unique_ptr<Client>> dest = Client::Connect(*std::move(dest_options));
    if (!dest.ok()) return CliError(kExitBadConnection, ErrorText(dest.status()));
    absl::StatusOr<std::unique_ptr<Client>> source = env.Connect();
    if (!source.ok()) return source.status();

    // The revision to copy at (the syncer reads "foo" for it).
    absl::StatusOr<GetResult> start = (*source)->Get("foo");
    if (!start.ok()) return CliError(kExitError, ErrorText(start.status()));
    if (no_dest_prefix_ && !dest_prefix_.empty()) {
      return CliError(kExitBadArgs,
                      "`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, "
                      "choose one");
    }
    if (!no_dest_prefix_ && dest_prefix_.empty()) dest_prefix_ = prefix_;
    const int64_t revision = start->header.revision;

    absl::Time next_report = absl::Now() + kReportInterval;
    auto report = [&] {
      if (absl::Now() < next_report) return;
      env.Print(absl::StrCat(total_, "\n"));
      env.Flush();
      next_report += kReportInterval;
    };

    if (absl::Status copied = CopyBase(**source, **dest, revision, report); !copied.ok()) {
      return copied;
    }
    Changes changes(signals);
    absl::StatusOr<WatchHandle> watch = (*source)->Watch(
        WatchRequest{.range = KeyRange::Prefix(prefix_), .start_revision = revision + 1}, &changes);
    if (!watch.ok()) return CliError(kExitError, ErrorText(watch.status()));
    while (true) {
      const absl::Duration wait = std::max(next_report - absl::Now(), absl::ZeroDuration());
      if (signals.Wait(wait)) {
        watch->Cancel();
        source->reset();
        dest->reset();
        SignalWaiter::TerminateBy(signals.signal());
      }
      report();
      for (const std::vector<Event>& events : changes.Take()) {
        if (absl::Status applied = Apply(**dest, events); !applied.ok()) return applied;
      }
      if (std::optional<WatchEnd> end = changes.end(); end.has_value()) {
        for (const std::vector<Event>& events : changes.Take()) {
          if (absl::Status applied = Apply(**dest, events); !applied.ok()) return applied;
        }
        if (end->compact_revision > 0 || IsCompacted(end->status)) {
          return CliError(kExitError, "etcdserver: mvcc: required revision has been compacted");
        }
        return CliError(kExitError, ErrorText(end->status));
      }
    }
  }

 private:
  // strings.Replace(key, prefix, dest_prefix, 1): the first occurrence,
  // anywhere in the key (an empty prefix: dest_prefix put in front).
  std::string ModifyPrefix(const std::string& key) const {
    const size_t at = key.find(prefix_);
    if (at == std::string::npos) return key;
    std::string modified = key;
    modified.replace(at, prefix_.size(), dest_prefix_);
    return modified;
  }

  // clientv3/mirror's SyncBase: the keys at `revision`, in batches, each put
  // at the destination.
  template <typename Report>
  absl::Status CopyBase(Client& source, Client& dest, int64_t revision, Report& report) {
    const KeyRange all =
        prefix_.empty() ? KeyRange::FromKey(std::string(1, '\0')) : KeyRange::Prefix(prefix_);
    KeyRange range = all;
    GetOptions options;
    options.limit = kBatchLimit;
    options.revision = revision;
    while (true) {
      absl::StatusOr<GetResult> batch = source.Range(range, options);
      if (!batch.ok()) return CliError(kExitError, ErrorText(batch.status()));
      for (const KeyValue& kv : batch->kvs) {
        absl::StatusOr<PutResult> put = dest.Put(ModifyPrefix(kv.key), kv.value);
        if (!put.ok()) return CliError(kExitError, ErrorText(put.status()));
        ++total_;
      }
      report();
      if (!batch->more || batch->kvs.empty()) return absl::OkStatus();
      const std::string next = batch->kvs.back().key + std::string(1, '\0');
      range = all.range_end() == std::string(1, '\0') ? KeyRange::FromKey(next)
                                                      : KeyRange::Between(next, all.range_end());
    }
  }

  // One watch response: one transaction per revision.
  absl::Status Apply(Client& dest, const std::vector<Event>& events) {
    TxnRequest txn;
    int64_t last_revision = 0;
    auto commit = [&]() -> absl::Status {
      if (txn.success.empty()) return absl::OkStatus();
      absl::StatusOr<TxnResult> result = dest.Txn(txn);
      txn = TxnRequest{};
      if (!result.ok()) return CliError(kExitError, ErrorText(result.status()));
      return absl::OkStatus();
    };
    for (const Event& event : events) {
      if (last_revision != 0 && event.kv.mod_revision > last_revision) {
        if (absl::Status committed = commit(); !committed.ok()) return committed;
      }
      last_revision = event.kv.mod_revision;
      txn.Then(event.type == EventType::kDelete
                   ? Op::Delete(ModifyPrefix(event.kv.key))
                   : Op::Put(ModifyPrefix(event.kv.key), event.kv.value));
      ++total_;
    }
    return commit();
  }

  std::vector<std::string> args_;
  std::string prefix_;
  std::string dest_prefix_;
  bool no_dest_prefix_ = false;
  std::string dest_cert_;
  std::string dest_key_;
  std::string dest_cacert_;
  bool dest_insecure_transport_ = true;
  int64_t total_ = 0;
};

[[maybe_unused]] const bool kRegistered =
    CommandRegistry::Global().Add({.path = {"make-mirror"},
                                   .summary = "Makes a mirror at the destination etcd cluster",
                                   .make = [] { return std::make_unique<MakeMirrorCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
