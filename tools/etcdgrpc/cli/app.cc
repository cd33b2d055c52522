#include "cli/app.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/command_prefix.h"
#include "cli/exit_status.h"
#include "cli/global_env.h"
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

// etcdctl's order of its commands (ctl.go's AddCommand calls), which is the
// order of cobra's suggestions; commands it does not have come after.
const std::vector<std::string>& EtcdctlCommands() {
  static const std::vector<std::string> kOrder = {
      "get",    "put",      "del",         "txn",     "compaction", "alarm",
      "defrag", "endpoint", "move-leader", "watch",   "version",    "lease",
      "member", "snapshot", "make-mirror", "migrate", "lock",       "elect",
      "auth",   "user",     "role",        "check"};
  return kOrder;
}
int EtcdctlRank(const std::string& name) {
  const std::vector<std::string>& order = EtcdctlCommands();
  return static_cast<int>(std::find(order.begin(), order.end(), name) - order.begin());
}

// The command tree as cobra's lookup sees it: names and the flags that take no value.
CommandNode CommandTree(const CLI::App& app, const std::set<std::string>& inherited_bool_flags) {
  CommandNode node{.name = app.get_name(), .children = {}, .bool_flags = inherited_bool_flags};
  for (const CLI::Option* option : app.get_options()) {
    if (!option->nonpositional() || option->get_expected_min() != 0) continue;
    for (const std::string& name : option->get_lnames()) node.bool_flags.insert(name);
    for (const std::string& name : option->get_snames()) node.bool_flags.insert(name);
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    node.children.push_back(CommandTree(*sub, node.bool_flags));
  }
  if (app.get_parent() == nullptr) {
    for (CommandNode& child : node.children) {
      child.etcdctl = EtcdctlRank(child.name) < static_cast<int>(EtcdctlCommands().size());
    }
    std::stable_sort(node.children.begin(), node.children.end(),
                     [](const CommandNode& a, const CommandNode& b) {
                       return EtcdctlRank(a.name) < EtcdctlRank(b.name);
                     });
  }
  return node;
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
    const CommandNode tree = CommandTree(root, {});

    // cobra's prefix matching: the words naming commands are completed first.
    std::vector<std::string> args = ExpandCommandPrefixes(
        tree, std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
    // cobra takes every word after "--" as an argument of the command; CLI11
    // would hand them back to the parent once the command's positional
    // argument has a value, so they are added to it after parsing.
    auto separator = std::find(args.begin(), args.end(), "--");
    const std::vector<std::string> trailing =
        separator == args.end() ? std::vector<std::string>{}
                                : std::vector<std::string>(separator + 1, args.end());
    std::vector<const char*> expanded = {argc > 0 ? argv[0] : kName};
    // pflag takes "--cert=" as an empty value, CLI11 as a missing one: give
    // it as "--cert" "" (value-taking flags only).
    std::vector<std::string> split;
    for (auto arg = args.begin(); arg != separator; ++arg) {
      const size_t eq = arg->find('=');
      if (arg->starts_with("--") && eq + 1 == arg->size() &&
          !tree.bool_flags.contains(arg->substr(2, eq - 2))) {
        split.push_back(arg->substr(0, eq));
        split.emplace_back();
      } else {
        split.push_back(*arg);
      }
    }
    for (const std::string& arg : split) expanded.push_back(arg.c_str());
    try {
      root.parse(static_cast<int>(expanded.size()), expanded.data());
    } catch (const CLI::CallForHelp&) {
      Write(out_, SelectedApp(root)->help());
      return kExitSuccess;
    } catch (const CLI::CallForAllHelp&) {
      Write(out_, root.help("", CLI::AppFormatMode::All));
      return kExitSuccess;
    } catch (const CLI::ExtrasError&) {
      return ReportExtras(root, commands, tree);
    } catch (const CLI::ParseError& e) {
      return Usage(*SelectedApp(root), e.what());
    }

    CLI::App* selected = SelectedApp(root);
    if (!trailing.empty()) {
      std::vector<CLI::Option*> positional =
          selected->get_options([](CLI::Option* option) { return option->get_positional(); });
      if (positional.empty() || selected == &root) {
        return Usage(*selected, absl::StrCat("unexpected argument ", trailing.front()));
      }
      // The first positional that still takes values: with "lock NAME --
      // cmd args", the name has its one value and the words go to the command.
      CLI::Option* target = positional.front();
      for (CLI::Option* option : positional) {
        if (option->count() < static_cast<size_t>(option->get_items_expected_max())) {
          target = option;
          break;
        }
      }
      for (const std::string& word : trailing) target->add_result(word);
      target->run_callback();
    }
    auto command = commands.find(selected);
    if (command == commands.end()) {
      // The tool itself or a group such as "endpoint": show what it offers.
      Write(out_, selected->help());
      return kExitSuccess;
    }
    for (const std::string& name : GlobalFlagNames()) {
      const CLI::Option* option = root.get_option_no_throw("--" + name);
      if (option != nullptr && option->count() > 0) flags.changed.insert(name);
    }
    if (!offline_.contains(selected)) {
      // etcdctl reads ETCDCTL_* when it makes its client; watch also takes
      // ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END without warning.
      const std::vector<std::string> extra =
          selected->get_name() == "watch" && selected->get_parent() == &root
              ? std::vector<std::string>{"watch-key", "watch-range-end"}
              : std::vector<std::string>{};
      const EnvOutcome outcome = ApplyEnvironment(ProcessEnvironment(), extra, &flags);
      for (const EnvNotice& notice : outcome.notices) {
        Write(err_, CapnslogLine(absl::Now(), notice));
      }
      if (outcome.fatal) return kExitError;
    }
    if (absl::Status status = ValidateGlobalFlags(flags); !status.ok()) {
      return Fail(*selected, status);
    }
    CommandEnv env(flags, *ParseOutputFormat(flags.write_out), in_, out_, err_, std::move(args));
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
        if (!spec.uses_client) offline_.insert(app);
        std::unique_ptr<Command> command = spec.make();
        command->Configure(*app);
        commands[app] = std::move(command);
      }
    }
    return commands;
  }

  // Arguments nobody took: an unknown flag or command, reported like cobra.
  int ReportExtras(CLI::App& root,
                   const std::map<const CLI::App*, std::unique_ptr<Command>>& commands,
                   const CommandNode& tree) {
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
      // cobra's error (with its suggestions) and usage hint, then etcdctl's
      // own "Error:" line with the same error.
      std::string error = absl::StrCat("unknown command \"", first, "\" for \"", kName, "\"");
      if (std::vector<std::string> suggestions = SuggestCommands(tree, first);
          !suggestions.empty()) {
        absl::StrAppend(&error, "\n\nDid you mean this?\n\t", absl::StrJoin(suggestions, "\n\t"),
                        "\n");
      }
      Write(err_, absl::StrCat("Error: ", error, "\nRun '", kName, " --help' for usage.\n",
                               "Error: ", error, "\n"));
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
  // Commands that never connect: no ETCDCTL_* variables for them.
  std::set<const CLI::App*> offline_;
};

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in, std::FILE* out, std::FILE* err) {
  return Cli(in, out, err).Run(argc, argv);
}

}  // namespace etcdgrpc::cli
