#include "cli/app.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/global_flags.h"

namespace etcdgrpc::cli {
namespace {

constexpr char kName[] = "etcdgrpc";
constexpr char kDescription[] =
    "A command line client for etcd v3 built on etcd-grpc. Commands, flags and output follow "
    "etcdctl v3, so both tools can be compared line by line.";

void Write(std::FILE* file, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), file);
}

// Usage lines name the whole command ("etcdgrpc endpoint status"), as cobra's do.
class PathFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    for (const CLI::App* parent = app->get_parent(); parent != nullptr;
         parent = parent->get_parent()) {
      name = absl::StrCat(parent->get_name(), " ", name);
    }
    return CLI::Formatter::make_usage(app, std::move(name));
  }
};

// The deepest command or group the user named.
CLI::App* SelectedApp(CLI::App& root) {
  CLI::App* current = &root;
  while (true) {
    std::vector<CLI::App*> chosen = current->get_subcommands();
    if (chosen.empty()) return current;
    current = chosen.front();
  }
}

CLI::App* FindOrAddSubcommand(CLI::App& parent, const std::string& name) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  CLI::App* sub = parent.add_subcommand(name);
  // Like cobra: once a command is chosen, later words are its arguments, never
  // another command.
  sub->require_subcommand(0, 1);
  sub->footer(absl::StrCat("Global flags (etcdctl's): see '", kName, " --help'.\n"));
  return sub;
}

class Cli {
 public:
  Cli(std::istream& in, std::FILE* out, std::FILE* err) : in_(in), out_(out), err_(err) {}

  int Run(int argc, const char* const* argv) {
    try {
      return RunOrThrow(argc, argv);
    } catch (const std::exception& e) {
      // Only CLI11 throws; anything it throws past parsing is a bug in our use.
      Write(err_, absl::StrCat("Error: ", e.what(), "\n"));
      return kExitError;
    }
  }

 private:
  int RunOrThrow(int argc, const char* const* argv) {
    CLI::App root(kDescription, kName);
    root.formatter(std::make_shared<PathFormatter>());
    // Global flags are accepted after the command too (etcdctl get k -w json).
    root.fallthrough();
    root.require_subcommand(0, 1);
    GlobalFlags flags;
    AddGlobalFlags(root, &flags);
    std::map<const CLI::App*, std::unique_ptr<Command>> commands = AddCommands(root);

    try {
      root.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      Write(out_, SelectedApp(root)->help());
      return kExitSuccess;
    } catch (const CLI::CallForAllHelp&) {
      Write(out_, root.help("", CLI::AppFormatMode::All));
      return kExitSuccess;
    } catch (const CLI::ExtrasError&) {
      return ReportExtras(root, commands);
    } catch (const CLI::ParseError& e) {
      return Usage(*SelectedApp(root), e.what());
    }

    flags.command_timeout_set = root.get_option("--command-timeout")->count() > 0;
    CLI::App* selected = SelectedApp(root);
    auto command = commands.find(selected);
    if (command == commands.end()) {
      // The tool itself or a group such as "endpoint": show what it offers.
      Write(out_, selected->help());
      return kExitSuccess;
    }
    if (absl::Status status = ValidateGlobalFlags(flags); !status.ok()) {
      return Fail(*selected, status);
    }
    CommandEnv env(flags, *ParseOutputFormat(flags.write_out), in_, out_, err_);
    absl::Status status = command->second->Run(env);
    std::fflush(out_);
    if (!status.ok()) return Fail(*selected, status);
    return kExitSuccess;
  }

  std::map<const CLI::App*, std::unique_ptr<Command>> AddCommands(CLI::App& root) {
    std::vector<CommandSpec> specs = CommandRegistry::Global().specs();
    // Registration order depends on link order; help should not.
    std::sort(specs.begin(), specs.end(),
              [](const CommandSpec& a, const CommandSpec& b) { return a.path < b.path; });
    std::map<const CLI::App*, std::unique_ptr<Command>> commands;
    for (const CommandSpec& spec : specs) {
      CLI::App* app = &root;
      for (const std::string& word : spec.path) app = FindOrAddSubcommand(*app, word);
      app->description(spec.summary);
      if (spec.make) {
        std::unique_ptr<Command> command = spec.make();
        command->Configure(*app);
        commands[app] = std::move(command);
      }
    }
    return commands;
  }

  // Arguments nobody took: an unknown flag or command, reported like cobra.
  int ReportExtras(CLI::App& root,
                   const std::map<const CLI::App*, std::unique_ptr<Command>>& commands) {
    CLI::App* selected = SelectedApp(root);
    std::vector<std::string> extras = root.remaining(true);
    const std::string first = extras.empty() ? "" : extras.front();
    if (first.size() > 1 && first[0] == '-') {
      if (first[1] == '-') {
        return Usage(*selected, absl::StrCat("unknown flag: ", first.substr(0, first.find('='))));
      }
      return Usage(*selected,
                   absl::StrCat("unknown shorthand flag: '", first.substr(1, 1), "' in ", first));
    }
    if (selected == &root) {
      Write(err_, absl::StrCat("Error: unknown command \"", first, "\" for \"", kName, "\"\nRun '",
                               kName, " --help' for usage.\n"));
      return kExitError;
    }
    if (commands.find(selected) == commands.end()) {
      // cobra shows a group's help for a word it does not know.
      Write(out_, selected->help());
      return kExitSuccess;
    }
    return Usage(*selected, absl::StrCat("unexpected argument ", first));
  }

  int Usage(const CLI::App& app, const std::string& message) {
    Write(out_, app.help());
    Write(err_, absl::StrCat("Error: ", message, "\n"));
    return kExitError;
  }

  int Fail(const CLI::App& app, const absl::Status& status) {
    if (WantsUsage(status)) Write(out_, app.help());
    const std::string text = ErrorText(status);
    if (!text.empty()) Write(err_, absl::StrCat("Error: ", text, "\n"));
    return ExitCodeOf(status);
  }

  std::istream& in_;
  std::FILE* out_;
  std::FILE* err_;
};

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in, std::FILE* out, std::FILE* err) {
  return Cli(in, out, err).Run(argc, argv);
}

}  // namespace etcdgrpc::cli
