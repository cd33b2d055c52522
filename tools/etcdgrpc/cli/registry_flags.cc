#include "cli/registry_flags.h"

#include <utility>

#include "cli/exit_status.h"

namespace etcdgrpc::cli {

void AddRegistryFlags(CLI::App& app, RegistryFlags* flags) {
  app.add_option("--codec", flags->codec,
                 "key layout and value format: native, kratos, kratos-grpcs, naming, "
                 "naming-no-metadata, gozero or hostport")
      ->capture_default_str();
  flags->prefix_option =
      app.add_option("--prefix", flags->prefix,
                     "root of the registry's keys (default: the codec's, /services for native)");
}

absl::StatusOr<RegistryLayout> ParseRegistryFlags(const RegistryFlags& flags) {
  absl::StatusOr<std::shared_ptr<const registry::Codec>> codec = registry::CodecByName(flags.codec);
  if (!codec.ok()) return CliError(kExitBadArgs, std::string(codec.status().message()));
  RegistryLayout layout;
  layout.codec = *std::move(codec);
  if (flags.prefix_option != nullptr && flags.prefix_option->count() > 0) {
    layout.prefix = flags.prefix;
  }
  return layout;
}

}  // namespace etcdgrpc::cli
