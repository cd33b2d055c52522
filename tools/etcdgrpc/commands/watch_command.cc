// `watch <key> [<range_end>]`: prints the events on a key, a prefix or a range
// as they happen (or from --rev on), until SIGINT/SIGTERM or until etcd ends
// the watch (for example because --rev was compacted).
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"
#include "cli/json_format.h"
#include "cli/signals.h"
#include "cli/simple_format.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {

// etcd's text for a compacted start revision, as etcdctl shows it (the
// client library adds which revisions were involved).
constexpr char kCompacted[] = "etcdserver: mvcc: required revision has been compacted";

// Prints each response as it arrives (on the client's watch thread; calls
// never overlap) and flushes it, so that a pipe sees every event at once.
// The end is handed to the main thread.
class WatchPrinter final : public WatchListener {
 public:
  WatchPrinter(const CommandEnv& env, SignalWaiter& waiter, ResponseHeader header)
      : env_(env), waiter_(waiter), header_(header) {}

  void OnEvents(const WatchEvents& batch) override {
    if (env_.format() == OutputFormat::kJson) {
      Write(JsonWatchResponse(Header(batch.revision), batch.events));
    } else {
      Write(SimpleWatchEvents(batch.events, env_.simple_options()));
    }
  }

  void OnProgress(int64_t revision) override {
    // etcdctl 3.5 prints this line in every format, then the (empty) response.
    std::string text = SimpleWatchProgress(revision);
    if (env_.format() == OutputFormat::kJson) text += JsonWatchResponse(Header(revision), {});
    Write(text);
  }

  void OnEnd(const WatchEnd& end) override {
    {
      std::lock_guard<std::mutex> lock(end_mu_);
      end_ = end;
    }
    waiter_.Wake();
  }

  std::optional<WatchEnd> end() {
    std::lock_guard<std::mutex> lock(end_mu_);
    return end_;
  }

  // Watch responses reach the listener without their header: -w json prints
  // the one read at the start, with each response's revision.
  ResponseHeader Header(int64_t revision) const {
    ResponseHeader header = header_;
    header.revision = revision;
    return header;
  }

 private:
  void Write(const std::string& text) {
    std::lock_guard<std::mutex> lock(write_mu_);
    env_.Print(text);
    env_.Flush();
  }

  const CommandEnv& env_;
  SignalWaiter& waiter_;
  const ResponseHeader header_;
  // std::mutex, so no thread-safety annotations. Separate, so that the main
  // thread can look at end_ while a write blocks on a full pipe.
  std::mutex write_mu_;  // serializes writes to stdout
  std::mutex end_mu_;    // guards end_
  std::optional<WatchEnd> end_;
};

class WatchCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("key", args_, "<key or prefix> [range_end]")->type_name("");
    app.add_flag("-i,--interactive", interactive_,
                 "Interactive mode (etcdctl's; not supported by etcdgrpc)");
    app.add_flag("--prefix", prefix_, "Watch on a prefix if prefix is set");
    app.add_option("--rev", rev_, "Revision to start watching")
        ->type_name("INT")
        ->capture_default_str();
    app.add_flag("--prev-kv", prev_kv_, "get the previous key-value pair before the event happens");
    app.add_flag("--progress-notify", progress_notify_,
                 "get periodic watch progress notification from server");
    app.footer(
        "Runs until SIGINT or SIGTERM (then ends by that signal, as etcdctl does), or until etcd "
        "cancels the watch (exit code 5). The key and range end may come from ETCDCTL_WATCH_KEY "
        "and ETCDCTL_WATCH_RANGE_END. --progress-notify is etcdctl 3.5's (3.4 has no such "
        "flag). Not supported: etcdctl's interactive mode (-i) and running a command for each "
        "event (`-- exec-command ...`).");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<int64_t> rev = GoParseInt(rev_, 10);
    if (!rev.ok()) {
      return UsageError(absl::StrCat("invalid argument ", GoQuote(rev_),
                                     " for \"--rev\" flag: ", rev.status().message()));
    }
    absl::StatusOr<KeyRange> range = MakeRange();
    if (!range.ok()) return range.status();
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());

    // Before the client exists, so that its threads start with the signals
    // blocked.
    SignalWaiter signals;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    ResponseHeader header;
    if (env.format() == OutputFormat::kJson) {
      GetOptions count_only;
      count_only.count_only = true;
      absl::StatusOr<GetResult> read = (*client)->Get(range->key(), count_only);
      if (!read.ok()) return read.status();
      header = read->header;
    }
    WatchPrinter printer(env, signals, header);
    absl::StatusOr<WatchHandle> watch =
        (*client)->Watch(WatchRequest{.range = *range,
                                      .start_revision = *rev,
                                      .prev_kv = prev_kv_,
                                      .progress_notify = progress_notify_},
                         &printer);
    if (!watch.ok()) return CliError(kExitBadArgs, ErrorText(watch.status()));

    const bool interrupted =
        signals.WaitForSignalOr([&printer] { return printer.end().has_value(); });
    // Stops the listener calls (waits for one in progress): nothing is
    // printed after this but what follows.
    watch->Cancel();
    if (interrupted) {
      // Like etcdctl, which dies of the signal; after a clean shutdown.
      client->reset();
      SignalWaiter::TerminateBy(signals.signal());
    }

    const WatchEnd end = *printer.end();
    const bool compacted = end.compact_revision > 0 || IsCompacted(end.status);
    env.PrintError(absl::StrCat("watch was canceled (",
                                compacted ? std::string(kCompacted) : ErrorText(end.status),
                                ")\n"));
    if (env.format() == OutputFormat::kJson) {
      // etcd's last response: no revision in its header, no events.
      env.Print(JsonWatchResponse(printer.Header(0), {}, end.compact_revision,
                                  /*canceled=*/true));
    }
    return CliError(kExitInterrupted, "watch is canceled by the server");
  }

 private:
  // The keys to watch from the arguments or etcdctl's environment variables,
  // with etcdctl's checks and messages.
  absl::StatusOr<KeyRange> MakeRange() const {
    const char* env_key = std::getenv("ETCDCTL_WATCH_KEY");
    const char* env_range_end = std::getenv("ETCDCTL_WATCH_RANGE_END");
    const std::string key_from_env = env_key == nullptr ? "" : env_key;
    const std::string end_from_env = env_range_end == nullptr ? "" : env_range_end;
    if (key_from_env.empty() && !end_from_env.empty()) {
      return CliError(kExitBadArgs,
                      absl::StrCat("ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=",
                                   GoQuote(end_from_env)));
    }
    if (interactive_) {
      return CliError(kExitBadFeature, "interactive watch (-i) is not supported by etcdgrpc");
    }
    std::vector<std::string> args = args_;
    if (!key_from_env.empty()) {
      if (!args.empty()) {
        return CliError(kExitBadArgs,
                        "bad number of arguments (found conflicting environment key)");
      }
      args.push_back(key_from_env);
      if (!end_from_env.empty()) args.push_back(end_from_env);
    }
    if (args.empty()) return CliError(kExitBadArgs, "bad number of arguments");
    if (args.size() > 2) {
      // etcdctl runs what follows `--` for every event (and ignores other
      // extra arguments); etcdgrpc refuses rather than ignore a command.
      return CliError(kExitBadArgs,
                      "bad number of arguments (etcdgrpc watch takes <key> [range_end] and "
                      "does not run commands)");
    }
    if (args.size() == 2) {
      if (prefix_)
        return CliError(kExitBadArgs, "`range_end` and `--prefix` are mutually exclusive");
      // An empty range end means the single key, as in etcd.
      if (args[1].empty()) return KeyRange::Key(args[0]);
      return KeyRange::Between(args[0], args[1]);
    }
    if (prefix_) return KeyRange::Prefix(args[0]);
    return KeyRange::Key(args[0]);
  }

  std::vector<std::string> args_;
  bool interactive_ = false;
  bool prefix_ = false;
  std::string rev_ = "0";
  bool prev_kv_ = false;
  bool progress_notify_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"watch"}, .summary = "Watches events stream on keys or prefixes", .make = [] {
       return std::make_unique<WatchCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
