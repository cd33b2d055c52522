// `defrag [--cluster]`: defragments each member's backend, one endpoint at a
// time, as etcdctl does. `--data-dir` (offline defragmentation of a bbolt
// file) is not offered: it is refused with etcdctl's failure line.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster_endpoints.h"
#include "cli/command.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {
namespace {

class DefragCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.add_option("args", ignored_)->group("");
    app.add_flag("--cluster", cluster_, "use all endpoints from the cluster member list");
    app.add_option("--data-dir", data_dir_,
                   "Optional. If present, defragments a data directory not in use by etcd.");
  }

  absl::Status Run(CommandEnv& env) override {
    if (!data_dir_.empty()) {
      env.PrintError(absl::StrCat("Failed to defragment etcd data[", data_dir_,
                                  "] (etcdgrpc does not defragment data directories offline; "
                                  "use etcdctl defrag --data-dir)\n"));
      return CliError(kExitError, "");
    }
    absl::StatusOr<std::vector<std::string>> endpoints = EndpointsFromCluster(env, cluster_);
    if (!endpoints.ok()) return endpoints.status();
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectToEndpoints(env, *endpoints);
    if (!client.ok()) return client.status();
    Maintenance maintenance = (*client)->maintenance();
    bool failed = false;
    for (const std::string& endpoint : *endpoints) {
      absl::StatusOr<ResponseHeader> done = maintenance.Defragment(endpoint);
      if (!done.ok()) {
        failed = true;
        env.PrintError(absl::StrCat("Failed to defragment etcd member[", endpoint, "] (",
                                    ErrorText(done.status()), ")\n"));
        continue;
      }
      env.Print(absl::StrCat("Finished defragmenting etcd member[", endpoint, "]\n"));
    }
    // etcdctl exits with 1 after the per-endpoint lines, without an "Error:" line.
    if (failed) return CliError(kExitError, "");
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> ignored_;
  bool cluster_ = false;
  std::string data_dir_;
};

[[maybe_unused]] const bool kRegistered = CommandRegistry::Global().Add(
    {.path = {"defrag"},
     .summary = "Defragments the storage of the etcd members with given endpoints",
     .make = [] { return std::make_unique<DefragCommand>(); }});

}  // namespace
}  // namespace etcdgrpc::cli
