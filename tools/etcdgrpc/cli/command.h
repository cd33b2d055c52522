// The command registry: each command of the tool is one class in its own file
// (commands/*_command.cc) that registers itself here, declares its flags on
// its CLI11 app and runs with a CommandEnv. Adding a command = adding a file.
#pragma once

#include <cstdio>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/global_flags.h"
#include "cli/simple_format.h"
#include "etcdgrpc/client.h"

namespace etcdgrpc::cli {

// What a running command uses: the global flags, the standard streams and a
// way to connect. Output goes through Print so binary values stay intact.
class CommandEnv {
 public:
  CommandEnv(GlobalFlags flags, OutputFormat format, std::istream& in, std::FILE* out,
             std::FILE* err, std::vector<std::string> args = {})
      : flags_(std::move(flags)),
        format_(format),
        in_(in),
        out_(out),
        err_(err),
        args_(std::move(args)) {}

  [[nodiscard]] const GlobalFlags& flags() const { return flags_; }
  [[nodiscard]] OutputFormat format() const { return format_; }
  [[nodiscard]] SimpleOptions simple_options() const { return SimpleOptions{.hex = flags_.hex}; }
  std::istream& in() { return in_; }
  // The command line after the program name, as given (command prefixes
  // expanded): for commands that look at it as etcdctl does at os.Args
  // (watch's "-- command").
  [[nodiscard]] const std::vector<std::string>& args() const { return args_; }

  // Connects to --endpoints. With `wait` false the client does not wait for a
  // connection (each call then reports its own endpoint's failure).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Client>> Connect(bool wait = true) const;

  void Print(std::string_view text) const;
  void PrintError(std::string_view text) const;
  // For interactive prompts, which must show before the tool waits for input.
  void Flush() const;

 private:
  GlobalFlags flags_;
  OutputFormat format_;
  std::istream& in_;
  std::FILE* out_;
  std::FILE* err_;
  std::vector<std::string> args_;
};

class Command {
 public:
  virtual ~Command() = default;
  // Declares the command's flags and positional arguments on its own app.
  virtual void Configure(CLI::App& app) = 0;
  // Runs after parsing. A failure carries etcdctl's exit code (exit_status.h)
  // and is printed as "Error: <message>" (nothing when the message is empty).
  [[nodiscard]] virtual absl::Status Run(CommandEnv& env) = 0;
};

struct CommandSpec {
  // The words that name it, e.g. {"get"} or {"endpoint", "status"}.
  std::vector<std::string> path;
  std::string summary;
  // Null for a group of subcommands (such as "endpoint"): only its summary.
  std::function<std::unique_ptr<Command>()> make;
  // False for commands that never connect (version): etcdctl reads the
  // ETCDCTL_* variables only when it makes a client.
  bool uses_client = true;
};

class CommandRegistry {
 public:
  static CommandRegistry& Global();
  // Returns true so that a registration can initialize a file-scope constant:
  //   const bool kRegistered = CommandRegistry::Global().Add({...});
  bool Add(CommandSpec spec);
  [[nodiscard]] const std::vector<CommandSpec>& specs() const { return specs_; }

 private:
  std::vector<CommandSpec> specs_;
};

// etcdctl's refusal of an output format a command has no printer for.
[[nodiscard]] absl::Status FormatNotSupported(OutputFormat format);
// etcdctl's name of a format ("simple", "json", "table", "fields", "protobuf").
[[nodiscard]] const char* FormatName(OutputFormat format);

}  // namespace etcdgrpc::cli
