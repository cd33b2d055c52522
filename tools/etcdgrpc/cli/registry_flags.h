// The --codec and --prefix flags of the commands that work on service registrations
// (register, resolve, services): declared once, so that their help, defaults and errors agree.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "etcdgrpc/registry/codec.h"

namespace etcdgrpc::cli {

struct RegistryFlags {
  std::string codec = "native";
  std::string prefix;
  // Tells an explicitly empty --prefix (naming keys have none) from no --prefix.
  CLI::Option* prefix_option = nullptr;
};

void AddRegistryFlags(CLI::App& app, RegistryFlags* flags);

// What the flags select, as RegistrarOptions and ResolverOptions take it: the codec, and the
// root prefix (unset: the codec's default).
struct RegistryLayout {
  std::shared_ptr<const registry::Codec> codec;
  std::optional<std::string> prefix;
};

// kExitBadArgs with the registry's message for an unknown codec.
[[nodiscard]] absl::StatusOr<RegistryLayout> ParseRegistryFlags(const RegistryFlags& flags);

}  // namespace etcdgrpc::cli
