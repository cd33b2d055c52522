// `resolve SERVICE [--watch]`: what the resolver sees of a service — its
// endpoints at a revision, then (with --watch) every change with the
// revision it reflects, until SIGINT/SIGTERM. Records that cannot be used
// are reported on stderr.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/registry_flags.h"
#include "cli/signals.h"
#include "etcdgrpc/resolver/resolver.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  // Values come from etcd and may hold invalid UTF-8: replace, never throw.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json EndpointJson(const resolver::Endpoint& endpoint) {
  Json metadata = Json::object();
  for (const auto& [key, value] : endpoint.instance.metadata) metadata[key] = value;
  Json json;
  json["id"] = endpoint.instance.id;
  json["address"] = endpoint.address();
  json["metadata"] = std::move(metadata);
  json["key"] = endpoint.key;
  json["mod_revision"] = endpoint.mod_revision;
  json["lease"] = endpoint.lease;
  return json;
}

std::string EndpointLine(const char* sign, const resolver::Endpoint& endpoint) {
  Json metadata = Json::object();
  for (const auto& [key, value] : endpoint.instance.metadata) metadata[key] = value;
  return absl::StrCat(sign, endpoint.instance.id, " ", endpoint.address(), " ", Dump(metadata),
                      "\n");
}

// Prints the first set and every change; runs on the client's watch thread.
class Printer final : public resolver::ServiceListener {
 public:
  Printer(CommandEnv& env, SignalWaiter& signals, bool follow)
      : env_(env), signals_(signals), follow_(follow) {}

  void OnUpdate(const resolver::EndpointSet& set,
                const resolver::EndpointChanges& changes) override {
    const bool first = !printed_first_;
    printed_first_ = true;
    if (env_.format() == OutputFormat::kJson) {
      Json out;
      out["service"] = set.service;
      out["revision"] = set.revision;
      if (first) {
        out["endpoints"] = Json::array();
        for (const auto& e : set.endpoints) out["endpoints"].push_back(EndpointJson(*e));
      } else {
        for (const char* kind : {"added", "removed", "updated"}) out[kind] = Json::array();
        for (const auto& e : changes.added) out["added"].push_back(EndpointJson(*e));
        for (const auto& e : changes.removed) out["removed"].push_back(EndpointJson(*e));
        for (const auto& e : changes.updated) out["updated"].push_back(EndpointJson(*e));
      }
      env_.Print(Dump(out) + "\n");
    } else if (first) {
      std::string text =
          absl::StrCat(set.service, " at revision ", set.revision, ": ", set.endpoints.size(),
                       " endpoint", set.endpoints.size() == 1 ? "" : "s", "\n");
      for (const auto& e : set.endpoints) text += EndpointLine("  ", *e);
      env_.Print(text);
    } else {
      std::string text = absl::StrCat("revision ", set.revision, " (", set.endpoints.size(),
                                      " endpoint", set.endpoints.size() == 1 ? "" : "s", ")\n");
      for (const auto& e : changes.added) text += EndpointLine("  + ", *e);
      for (const auto& e : changes.removed) text += EndpointLine("  - ", *e);
      for (const auto& e : changes.updated) text += EndpointLine("  ~ ", *e);
      env_.Print(text);
    }
    env_.Flush();
    if (first && !follow_) {
      done_.store(true);
      signals_.Wake();
    }
  }
  void OnProblem(const absl::Status& problem) override {
    env_.PrintError(absl::StrCat("warning: ", problem.message(), "\n"));
  }
  bool done() const { return done_.load(); }

 private:
  CommandEnv& env_;
  SignalWaiter& signals_;
  const bool follow_;
  bool printed_first_ = false;
  std::atomic<bool> done_{false};
};

class ResolveCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("service", service_, "the service to resolve")->required()->type_name("SERVICE");
    app.add_flag("--watch", watch_, "keep following the service and print every change");
    AddRegistryFlags(app, &registry_flags_);
  }

  absl::Status Run(CommandEnv& env) override {
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());
    absl::StatusOr<RegistryLayout> layout = ParseRegistryFlags(registry_flags_);
    if (!layout.ok()) return layout.status();
    resolver::ResolverOptions options;
    options.codec = std::move(layout->codec);
    options.prefix = std::move(layout->prefix);
    SignalWaiter signals;  // before the client starts threads
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    bool interrupted = false;
    {
      resolver::Resolver resolver(**client, options);
      absl::StatusOr<std::shared_ptr<resolver::ServiceView>> view = resolver.Watch(service_);
      if (!view.ok()) return CliError(kExitBadArgs, std::string(view.status().message()));
      Printer printer(env, signals, watch_);
      resolver::ServiceView::Subscription subscription = (*view)->Subscribe(&printer);
      interrupted = signals.WaitForSignalOr([&printer] { return printer.done(); });
      subscription.Cancel();
    }
    if (interrupted) {
      client->reset();
      SignalWaiter::TerminateBy(signals.signal());
    }
    return absl::OkStatus();
  }

 private:
  std::string service_;
  bool watch_ = false;
  RegistryFlags registry_flags_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"resolve"},
     .summary = "Prints a service's endpoints as the resolver sees them; --watch follows changes",
     .make = [] { return std::make_unique<ResolveCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
