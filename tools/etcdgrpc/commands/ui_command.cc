// `ui --listen HOST:PORT`: serves a live page of the registry (every service
// under the prefix, its instances, a timeline of changes, this process's
// client stats) until SIGINT/SIGTERM. See docs/ui.md.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/registry_flags.h"
#include "cli/signals.h"
#include "ui/registry_model.h"
#include "ui/registry_tracker.h"
#include "ui/ui_server.h"

namespace etcdgrpc::cli {
namespace {

// How often the status (stale or live, client stats, TTLs, health) is sampled and pushed.
constexpr absl::Duration kStatusInterval = absl::Seconds(1);

class UiCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("--listen", listen_,
                   "HOST:PORT to serve the page on (port 0: any free port; loopback by default)")
        ->capture_default_str();
    app.add_flag("--no-health-check", no_health_check_,
                 "do not run gRPC health checks (grpc.health.v1) against the instances");
    AddRegistryFlags(app, &registry_flags_);
    app.footer(
        "The page updates live (server-sent events from the resolver's watch). While etcd is "
        "unreachable it keeps the last known state and says it is stale. The first line on "
        "stdout is the page's URL.");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<RegistryLayout> layout = ParseRegistryFlags(registry_flags_);
    if (!layout.ok()) return layout.status();
    const std::string prefix =
        layout->prefix.value_or(std::string(layout->codec->default_prefix()));
    if (prefix.empty()) {
      return CliError(kExitBadArgs, absl::StrCat("ui needs a non-empty --prefix (the ",
                                                 std::string(layout->codec->name()),
                                                 " codec has none): every service is listed "
                                                 "under it"));
    }
    const size_t colon = listen_.rfind(':');
    int port = -1;
    if (colon == std::string::npos || !absl::SimpleAtoi(listen_.substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return CliError(kExitBadArgs,
                      absl::StrCat("--listen wants HOST:PORT, got \"", listen_, "\""));
    }
    std::string host = listen_.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }

    SignalWaiter signals;  // before anything starts a thread
    ui::RegistryModel model(std::string(layout->codec->name()), prefix);
    ui::UiServer server(model);
    if (absl::Status started = server.Start(host, port); !started.ok()) {
      return CliError(kExitError, std::string(started.message()));
    }
    // Without waiting for etcd: the page serves (and says it is stale) while etcd is down.
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect(/*wait=*/false);
    if (!client.ok()) return client.status();
    const bool bracket = host.find(':') != std::string::npos;
    env.Print(absl::StrCat("serving the registry page on http://", bracket ? "[" : "", host,
                           bracket ? "]" : "", ":", server.port(), "/\n"));
    env.Flush();
    {
      ui::RegistryTracker tracker(
          **client,
          ui::TrackerOptions{
              .codec = layout->codec, .prefix = prefix, .health_checks = !no_health_check_},
          model, [&signals] { signals.Wake(); });
      do {
        tracker.Tick();
      } while (!signals.Wait(kStatusInterval));
      server.Stop();
    }
    client->reset();
    SignalWaiter::TerminateBy(signals.signal());
  }

 private:
  std::string listen_ = "127.0.0.1:8080";
  bool no_health_check_ = false;
  RegistryFlags registry_flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"ui"},
     .summary = "Serves a live page of the registry: services, instances, changes, client stats",
     .make = [] { return std::make_unique<UiCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
