// `register SERVICE ID ADDRESS`: registers a service instance, prints every
// state change, stays registered until SIGINT or SIGTERM, then deregisters.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/registry_flags.h"
#include "cli/signals.h"
#include "etcdgrpc/registry/registrar.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

// Prints each state change as one line: simple text, or one JSON object per
// line with -w json.
class PrintingListener final : public registry::RegistrationListener {
 public:
  PrintingListener(CommandEnv& env, const registry::Registrar& registrar,
                   registry::ServiceInstance instance)
      : env_(env),
        registrar_(registrar),
        instance_(std::move(instance)),
        key_(registrar.KeyOf(instance_)) {}

  void OnStateChange(const registry::RegistrationEvent& event) override {
    const std::string state(registry::RegistrationStateName(event.state));
    // A key that names the lease (go-zero's) changes with it; events without
    // a lease name the last one.
    if (registrar_.codec().key_uses_lease() && event.lease_id != 0) {
      key_ = registrar_.codec().LeaseKey(registrar_.prefix(), instance_, event.lease_id);
    }
    std::string line;
    if (env_.format() == OutputFormat::kJson) {
      nlohmann::ordered_json json;
      json["state"] = state;
      json["key"] = key_;
      if (event.lease_id != 0) {
        json["lease"] = absl::StrFormat("%016x", static_cast<uint64_t>(event.lease_id));
        json["ttl"] = absl::ToInt64Seconds(event.ttl);
      }
      if (!event.reason.ok()) json["reason"] = std::string(event.reason.message());
      line = json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    } else {
      line = absl::StrCat(state, " ", key_);
      if (event.lease_id != 0) {
        absl::StrAppendFormat(&line, " lease=%016x ttl=%ds", static_cast<uint64_t>(event.lease_id),
                              absl::ToInt64Seconds(event.ttl));
      }
      if (!event.reason.ok()) absl::StrAppend(&line, ": ", event.reason.message());
      line += "\n";
    }
    env_.Print(line);
    env_.Flush();
  }

 private:
  CommandEnv& env_;
  const registry::Registrar& registrar_;
  const registry::ServiceInstance instance_;
  // Listener calls are made one at a time (the registrar's runner).
  std::string key_;
};

class RegisterCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("service", service_, "service name")->required()->type_name("SERVICE");
    app.add_option("id", id_, "instance id, unique within the service")
        ->required()
        ->type_name("ID");
    app.add_option("address", address_, "where clients connect, host:port")
        ->required()
        ->type_name("ADDRESS");
    app.add_option("--ttl", ttl_, "lease TTL in seconds")->type_name("S")->capture_default_str();
    app.add_option("--meta", meta_, "metadata pair (repeatable), e.g. --meta zone=eu-1")
        ->type_name("K=V")
        // One value per occurrence: the next word is never taken as metadata.
        ->allow_extra_args(false);
    AddRegistryFlags(app, &registry_flags_);
    app.add_flag("--replace", replace_, "take the id over even if another live instance holds it");
  }

  absl::Status Run(CommandEnv& env) override {
    if (env.format() == OutputFormat::kTable) return FormatNotSupported(env.format());
    absl::StatusOr<registry::RegistrarOptions> options = MakeOptions();
    if (!options.ok()) return options.status();
    registry::ServiceInstance instance;
    instance.service = service_;
    instance.id = id_;
    instance.address = address_;
    for (const std::string& pair : meta_) {
      const size_t equals = pair.find('=');
      if (equals == std::string::npos || equals == 0) {
        return CliError(kExitBadArgs, absl::StrCat("--meta wants key=value, got \"", pair, "\""));
      }
      instance.metadata[pair.substr(0, equals)] = pair.substr(equals + 1);
    }

    // Before connecting: the client's threads inherit the blocked signals, so
    // SIGINT/SIGTERM end the wait below instead of killing the process
    // before it deregisters.
    SignalWaiter signals;
    absl::StatusOr<std::unique_ptr<Client>> client = env.Connect();
    if (!client.ok()) return client.status();
    registry::Registrar registrar(**client, *std::move(options));
    PrintingListener listener(env, registrar, instance);
    absl::StatusOr<registry::Registration> registration =
        registrar.Register(instance, &listener, {.replace = replace_});
    if (!registration.ok()) return registration.status();

    while (!signals.Wait()) {
    }
    // The listener prints "deregistered" (with the error, if any).
    absl::Status deregistered = registration->Deregister();
    if (!deregistered.ok()) return CliError(kExitError, "");
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<registry::RegistrarOptions> MakeOptions() const {
    registry::RegistrarOptions options;
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(ttl_, &seconds) || seconds < 1) {
      return CliError(
          kExitBadArgs,
          absl::StrCat("--ttl wants a whole number of seconds >= 1, got \"", ttl_, "\""));
    }
    options.ttl = absl::Seconds(seconds);
    absl::StatusOr<RegistryLayout> layout = ParseRegistryFlags(registry_flags_);
    if (!layout.ok()) return layout.status();
    options.codec = std::move(layout->codec);
    options.prefix = std::move(layout->prefix);
    return options;
  }

  std::string service_;
  std::string id_;
  std::string address_;
  std::string ttl_ = "10";
  std::vector<std::string> meta_;
  RegistryFlags registry_flags_;
  bool replace_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"register"},
     .summary = "Registers a service instance until SIGINT/SIGTERM, printing its state changes",
     .make = [] { return std::make_unique<RegisterCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
