// `version`: the etcdctl and API versions the tool is compatible with, in
// etcdctl's words (scripts and etcd's e2e suite read these lines).
#include <memory>

#include "cli/command.h"

namespace etcdgrpc::cli {
namespace {

class VersionCommand final : public Command {
 public:
  void Configure(CLI::App& app) override {
    app.footer("etcdgrpc speaks etcdctl 3.4.23's command line; the lines are etcdctl's.");
  }

  absl::Status Run(CommandEnv& env) override {
    env.Print("etcdctl version: 3.4.23\nAPI version: 3.4\n");
    return absl::OkStatus();
  }
};

[[maybe_unused]] const bool kRegistered =
    CommandRegistry::Global().Add({.path = {"version"},
                                   .summary = "Prints the version of etcdctl",
                                   .make = [] { return std::make_unique<VersionCommand>(); },
                                   .uses_client = false});

}  // namespace
}  // namespace etcdgrpc::cli
