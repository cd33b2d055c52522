// `endpoint health [--cluster]`: each endpoint is healthy when it serves a
// read (a permission refusal counts as an answer), asked through a client of
// its own, all at once, as etcdctl does.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "cli/cluster_endpoints.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/fields_format.h"
#include "cli/go_duration.h"
#include "cli/json_format.h"
#include "cli/simple_format.h"
#include "cli/table_format.h"

namespace etcdgrpc::cli {
namespace {

EndpointHealth Check(const CommandEnv& env, const std::string& endpoint) {
  EndpointHealth health{.endpoint = endpoint};
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectToEndpoints(env, {endpoint});
  if (!client.ok()) {
    health.error = ErrorText(client.status());
    return health;
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<GetResult> got = (*client)->Get("health");
  health.took = GoDurationString(absl::Now() - start);
  if (got.ok() || absl::IsPermissionDenied(got.status())) {
    health.health = true;
  } else {
    health.error = ErrorText(got.status());
  }
  return health;
}

class EndpointHealthCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", ignored_)->group("");
    app.add_flag("--cluster", cluster_, "use all endpoints from the cluster member list");
  }

  absl::Status Run(CommandEnv& env) override {
    absl::StatusOr<std::vector<std::string>> endpoints = EndpointsFromCluster(env, cluster_);
    if (!endpoints.ok()) return endpoints.status();
    std::vector<EndpointHealth> list(endpoints->size());
    {
      std::vector<std::jthread> checks;
      for (size_t i = 0; i < endpoints->size(); ++i) {
        checks.emplace_back([&, i] { list[i] = Check(env, (*endpoints)[i]); });
      }
    }
    bool unhealthy = false;
    for (const EndpointHealth& health : list) unhealthy |= !health.error.empty();
    switch (env.format()) {
      case OutputFormat::kSimple:
        // etcdctl writes these lines to stderr.
        env.PrintError(SimpleEndpointHealth(list));
        break;
      case OutputFormat::kJson:
        env.Print(JsonEndpointHealth(list));
        break;
      case OutputFormat::kTable:
        env.Print(TableEndpointHealth(list));
        break;
      case OutputFormat::kFields:
        env.Print(FieldsEndpointHealth(list));
        break;
      default:  // protobuf: etcdctl has no printer for it either.
        return FormatNotSupported(env.format());
    }
    if (unhealthy) return CliError(kExitError, "unhealthy cluster");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> ignored_;
  bool cluster_ = false;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"endpoint", "health"},
     .summary = "Checks the healthiness of endpoints specified in `--endpoints` flag",
     .make = [] { return std::make_unique<EndpointHealthCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
