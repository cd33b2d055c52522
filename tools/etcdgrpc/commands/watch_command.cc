// `watch [options] [key] [range_end] [-- command args...]` and `watch -i`:
// prints the events on a key, a prefix or a range as they happen (or from
// --rev on), running the command after "--" for each event, until
// SIGINT/SIGTERM or until etcd ends the watch. With -i the watches come from
// `watch ...` lines on stdin (and `progress` asks for progress notifications).
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/go_text.h"
#include "cli/json_format.h"
#include "cli/protobuf_format.h"
#include "cli/signals.h"
#include "cli/simple_format.h"
#include "cli/txn_parser.h"
#include "cli/watch_args.h"
#include "cli/watch_exec.h"
#include "etcdgrpc/errors.h"

namespace etcdgrpc::cli {
namespace {

// etcd's text for a compacted start revision, as etcdctl shows it (the
// client library adds which revisions were involved).
constexpr char kCompacted[] = "etcdserver: mvcc: required revision has been compacted";

// One response in the chosen format (etcdctl's display.Watch).
std::string FormatResponse(const CommandEnv& env, const ResponseHeader& header,
                           const std::vector<Event>& events, int64_t compact_revision = 0,
                           bool canceled = false) {
  switch (env.format()) {
    case OutputFormat::kSimple:
      return SimpleWatchEvents(events, env.simple_options());
    case OutputFormat::kJson:
      return JsonWatchResponse(header, events, compact_revision, canceled);
    case OutputFormat::kFields:
      return FieldsWatch(header, events);
    case OutputFormat::kProtobuf:
      return ProtobufWatch(header, events, compact_revision, canceled);
    default:
      return "";
  }
}

// Serializes the output of all the watches of one run.
struct Output {
  std::mutex mu;
};

// Prints each response of one watch as it arrives (on the client's watch
// thread; calls never overlap) and flushes it, so that a pipe sees every event
// at once; then runs the command for each event. The end is printed here and
// handed to the main thread.
class WatchPrinter final : public WatchListener {
 public:
  WatchPrinter(const CommandEnv& env, Output& output, SignalWaiter& waiter, ResponseHeader header,
               std::vector<std::string> exec)
      : env_(env), output_(output), waiter_(waiter), header_(header), exec_(std::move(exec)) {}

  void OnEvents(const WatchEvents& batch) override {
    std::lock_guard<std::mutex> lock(output_.mu);
    Write(FormatResponse(env_, Header(batch.revision), batch.events));
    for (const Event& event : batch.events) {
      if (exec_.empty()) break;
      absl::Status ran = RunWatchCommand(exec_, WatchEventEnvironment(batch.revision, event));
      if (!ran.ok()) {
        // etcdctl exits at once (os.Exit(1)), with its message.
        env_.PrintError(absl::StrCat(ran.message(), "\n"));
        std::fflush(nullptr);
        _exit(kExitError);
      }
    }
  }

  void OnProgress(int64_t revision) override {
    std::lock_guard<std::mutex> lock(output_.mu);
    // etcdctl prints this line in every format, then the (empty) response.
    Write(absl::StrCat(SimpleWatchProgress(revision), FormatResponse(env_, Header(revision), {})));
  }

  void OnEnd(const WatchEnd& end) override {
    {
      std::lock_guard<std::mutex> lock(output_.mu);
      const bool compacted = end.compact_revision > 0 || IsCompacted(end.status);
      env_.PrintError(absl::StrCat("watch was canceled (",
                                   compacted ? std::string(kCompacted) : ErrorText(end.status),
                                   ")\n"));
      // etcd's last response: no revision in its header, no events.
      Write(FormatResponse(env_, Header(0), {}, end.compact_revision, /*canceled=*/true));
    }
    {
      std::lock_guard<std::mutex> lock(end_mu_);
      ended_ = true;
    }
    waiter_.Wake();
  }

  bool ended() {
    std::lock_guard<std::mutex> lock(end_mu_);
    return ended_;
  }

 private:
  // Watch responses reach the listener without their header: the formats
  // that print one use the one read at the start, with each response's revision.
  ResponseHeader Header(int64_t revision) const {
    ResponseHeader header = header_;
    header.revision = revision;
    return header;
  }

  void Write(const std::string& text) {
    env_.Print(text);
    env_.Flush();
  }

  const CommandEnv& env_;
  Output& output_;
  SignalWaiter& waiter_;
  const ResponseHeader header_;
  const std::vector<std::string> exec_;
  std::mutex end_mu_;  // guards ended_
  bool ended_ = false;
};

// The lines of interactive mode, read on a thread of their own so that the
// main thread can wait for them and for signals at once.
class LineReader {
 public:
  struct State {
    std::mutex mu;
    std::deque<std::string> lines;
    bool eof = false;
  };

  LineReader(std::istream& in, SignalWaiter& waiter) : state_(std::make_shared<State>()) {
    // Detached: it may be blocked reading when the tool exits.
    std::thread([state = state_, &in, &waiter] {
      std::string line;
      while (true) {
        // ReadString('\n'): a last line without its newline is an error too.
        const bool complete = static_cast<bool>(std::getline(in, line)) && !in.eof();
        std::lock_guard<std::mutex> lock(state->mu);
        if (!complete) {
          state->eof = true;
          waiter.Wake();
          return;
        }
        state->lines.push_back(line);
        waiter.Wake();
      }
    }).detach();
  }

  bool Ready() {
    std::lock_guard<std::mutex> lock(state_->mu);
    return !state_->lines.empty() || state_->eof;
  }
  // The next line, or nullopt at the end of the input.
  std::optional<std::string> Take() {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->lines.empty()) return std::nullopt;
    std::string line = std::move(state_->lines.front());
    state_->lines.pop_front();
    return line;
  }

 private:
  std::shared_ptr<State> state_;
};

class WatchCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("key", args_, "[key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]")
        ->type_name("");
    app.add_flag("-i,--interactive", interactive_, "Interactive mode");
    app.add_flag("--prefix", prefix_, "Watch on a prefix if prefix is set");
    app.add_option("--rev", rev_, "Revision to start watching")
        ->type_name("INT")
        ->capture_default_str();
    app.add_flag("--prev-kv", prev_kv_, "get the previous key-value pair before the event happens");
    app.add_flag("--progress-notify", progress_notify_,
                 "get periodic watch progress notification from server");
    app.footer(
        "Runs until SIGINT or SIGTERM (then ends by that signal, as etcdctl does), or until etcd "
        "cancels the watch (exit code 5). The command after `--` runs for each event with "
        "ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and ETCD_WATCH_VALUE set. "
        "The key and range end may come from ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END. "
        "With -i, reads `watch <key> [flags] [-- command]` and `progress` lines from stdin. "
        "--progress-notify is etcdctl 3.5's (3.4 has no such flag).");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<int64_t> rev = GoParseInt(rev_, 10);
    if (!rev.ok()) {
      return UsageError(absl::StrCat("invalid argument ", GoQuote(rev_),
                                     " for \"--rev\" flag: ", rev.status().message()));
    }
    const char* env_key_value = std::getenv("ETCDCTL_WATCH_KEY");
    const char* env_range_value = std::getenv("ETCDCTL_WATCH_RANGE_END");
    env_key_ = env_key_value == nullptr ? "" : env_key_value;
    env_range_ = env_range_value == nullptr ? "" : env_range_value;
    if (env_key_.empty() && !env_range_.empty()) {
      return CliError(kExitBadArgs,
                      absl::StrCat("ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=",
                                   GoQuote(env_range_)));
    }
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());
    if (interactive_) return RunInteractive(env);

    absl::StatusOr<WatchArgs> args = ParseWatchArgs(env.args(), args_, env_key_, env_range_);
    if (!args.ok()) return args.status();
    // Before the client exists, so that its threads start with the signals
    // blocked.
    SignalWaiter signals;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    absl::StatusOr<KeyRange> range = WatchRange(args->keys, prefix_);
    if (!range.ok()) return range.status();
    Output output;
    absl::StatusOr<ResponseHeader> header = StartHeader(env, **client, *range);
    if (!header.ok()) return header.status();
    WatchPrinter printer(env, output, signals, *header, args->exec);
    absl::StatusOr<WatchHandle> watch =
        (*client)->Watch(WatchRequest{.range = *range,
                                      .start_revision = *rev,
                                      .prev_kv = prev_kv_,
                                      .progress_notify = progress_notify_},
                         &printer);
    if (!watch.ok()) return CliError(kExitBadArgs, ErrorText(watch.status()));

    const bool interrupted = signals.WaitForSignalOr([&printer] { return printer.ended(); });
    // Stops the listener calls (waits for one in progress): nothing is
    // printed after this.
    watch->Cancel();
    if (interrupted) {
      // Like etcdctl, which dies of the signal; after a clean shutdown.
      client->reset();
      SignalWaiter::TerminateBy(signals.signal());
    }
    return CliError(kExitInterrupted, "watch is canceled by the server");
  }

 private:
  // The header the formats other than simple print with each response (the
  // watch's own responses reach the listener without theirs).
  static absl::StatusOr<ResponseHeader> StartHeader(const CommandEnv& env, Client& client,
                                                    const KeyRange& range) {
    if (env.format() == OutputFormat::kSimple) return ResponseHeader{};
    GetOptions count_only;
    count_only.count_only = true;
    absl::StatusOr<GetResult> read = client.Get(range.key(), count_only);
    if (!read.ok()) return read.status();
    return read->header;
  }

  // etcdctl's watchInteractiveFunc: one watch per `watch` line, until stdin ends.
  absl::Status RunInteractive(CommandEnv& env) {
    SignalWaiter signals;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    Output output;
    std::vector<std::unique_ptr<WatchPrinter>> printers;
    std::vector<WatchHandle> watches;
    LineReader reader(env.in(), signals);
    absl::Status result = absl::OkStatus();
    while (true) {
      if (signals.WaitForSignalOr([&reader] { return reader.Ready(); })) {
        for (WatchHandle& watch : watches) watch.Cancel();
        client->reset();
        SignalWaiter::TerminateBy(signals.signal());
      }
      std::optional<std::string> line = reader.Take();
      if (!line.has_value()) {
        result = CliError(kExitInvalidInput, "Error reading watch request line: EOF");
        break;
      }
      absl::Status handled = HandleLine(env, **client, *line, output, signals, printers, watches);
      if (!handled.ok()) {
        result = handled;
        break;
      }
    }
    for (WatchHandle& watch : watches) watch.Cancel();
    return result;
  }

  absl::Status HandleLine(CommandEnv& env, Client& client, const std::string& line, Output& output,
                          SignalWaiter& signals,
                          std::vector<std::unique_ptr<WatchPrinter>>& printers,
                          std::vector<WatchHandle>& watches) {
    auto say = [&](const std::string& text) {
      std::lock_guard<std::mutex> lock(output.mu);
      env.PrintError(text);
    };
    absl::StatusOr<std::vector<std::string>> words = Argify(line);
    if (!words.ok()) return CliError(kExitInvalidInput, std::string(words.status().message()));
    if (words->empty()) {
      say(absl::StrCat("Invalid command: ", line, " (watch and progress supported)\n"));
      return absl::OkStatus();
    }
    if ((*words)[0] == "progress") {
      absl::Status requested = client.RequestProgress();
      if (!requested.ok()) return CliError(kExitError, ErrorText(requested));
      return absl::OkStatus();
    }
    if ((*words)[0] != "watch") {
      say(absl::StrCat("Invalid command ", line, " (only support watch)\n"));
      return absl::OkStatus();
    }
    if (words->size() < 2 && env_key_.empty()) {
      say(absl::StrCat("Invalid command ", line, " (command type or key is not provided)\n"));
      return absl::OkStatus();
    }
    absl::StatusOr<WatchArgs> args = ParseInteractiveWatch(*words, env_key_, env_range_);
    if (!args.ok()) return args.status();
    absl::StatusOr<KeyRange> range = WatchRange(args->keys, args->prefix);
    if (!range.ok()) {
      say(absl::StrCat("Invalid command ", line, " (", range.status().message(), ")\n"));
      return absl::OkStatus();
    }
    absl::StatusOr<ResponseHeader> header = StartHeader(env, client, *range);
    if (!header.ok()) return header.status();
    printers.push_back(
        std::make_unique<WatchPrinter>(env, output, signals, *header, std::move(args->exec)));
    absl::StatusOr<WatchHandle> watch = client.Watch(
        WatchRequest{.range = *range, .start_revision = args->rev, .prev_kv = args->prev_kv},
        printers.back().get());
    if (!watch.ok()) {
      say(absl::StrCat("Invalid command ", line, " (", ErrorText(watch.status()), ")\n"));
      return absl::OkStatus();
    }
    watches.push_back(*std::move(watch));
    return absl::OkStatus();
  }

  std::vector<std::string> args_;
  bool interactive_ = false;
  bool prefix_ = false;
  std::string rev_ = "0";
  bool prev_kv_ = false;
  bool progress_notify_ = false;
  std::string env_key_;
  std::string env_range_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"watch"}, .summary = "Watches events stream on keys or prefixes", .make = [] {
       return std::make_unique<WatchCommand>();
     }});

}  // namespace
}  // namespace etcdgrpc::cli
