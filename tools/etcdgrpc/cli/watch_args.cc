#include "cli/watch_args.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {
namespace {

constexpr char kBadArgsNum[] = "bad number of arguments";
constexpr char kConflictEnv[] = "bad number of arguments (found conflicting environment key)";
constexpr char kSeparator[] = "bad number of arguments (found separator --, but no commands)";

absl::Status BadArgs(const std::string& message) { return CliError(kExitBadArgs, message); }

// "--" and what follows: the command to run.
std::vector<std::string> AfterSeparator(const std::vector<std::string>& words) {
  auto sep = std::find(words.begin(), words.end(), "--");
  if (sep == words.end()) return {};
  return {sep + 1, words.end()};
}

// watchArgs with the env key first and, when there is a command, cut before
// the last occurrence of the command's first word (etcdctl's way of dropping
// the command from the positional arguments).
std::vector<std::string> KeysOf(std::vector<std::string> positional,
                                const std::vector<std::string>& exec, const std::string& env_key,
                                const std::string& env_range) {
  if (!env_key.empty()) {
    std::vector<std::string> ranges = {env_key};
    if (!env_range.empty()) ranges.push_back(env_range);
    positional.insert(positional.begin(), ranges.begin(), ranges.end());
  }
  if (exec.empty()) return positional;
  size_t end = positional.size();
  while (end > 0 && positional[end - 1] != exec[0]) --end;
  // Not found: Go's loop ends at -1 and slices [:-1]... it cannot happen, the
  // command's words are among the positional arguments.
  if (end == 0) return {};
  positional.resize(end - 1);
  return positional;
}

// pflag's parse of a watch line's flags; the positional words in order
// ("--" ends the flags, the words after it are positional too).
absl::Status ParseLineFlags(const std::vector<std::string>& words, WatchArgs* out,
                            std::vector<std::string>* positional) {
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") {
      positional->insert(positional->end(), words.begin() + static_cast<long>(i) + 1, words.end());
      return absl::OkStatus();
    }
    if (word.size() < 2 || word[0] != '-') {
      positional->push_back(word);
      continue;
    }
    std::string name;
    std::string value;
    bool has_value = false;
    if (word[1] == '-') {
      name = word.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
    } else {
      // Shorthands: only -i.
      if (word[1] != 'i') {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown shorthand flag: '", word.substr(1, 1), "' in ", word));
      }
      name = "interactive";
      if (word.size() > 2) {
        if (word[2] != '=') {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown shorthand flag: '", word.substr(2, 1), "' in ", word));
        }
        value = word.substr(3);
        has_value = true;
      }
    }
    bool interactive = false;  // accepted on a line, and meaningless there
    bool* flag = name == "prefix"        ? &out->prefix
                 : name == "prev-kv"     ? &out->prev_kv
                 : name == "interactive" ? &interactive
                                         : nullptr;
    if (flag != nullptr) {
      if (!has_value) {
        *flag = true;
      } else if (value == "true" || value == "1" || value == "t" || value == "T" ||
                 value == "TRUE" || value == "True") {
        *flag = true;
      } else if (value == "false" || value == "0" || value == "f" || value == "F" ||
                 value == "FALSE" || value == "False") {
        *flag = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid argument ", GoQuote(value), " for \"--", name,
            "\" flag: strconv.ParseBool: parsing ", GoQuote(value), ": invalid syntax"));
      }
      continue;
    }
    if (name == "rev") {
      if (!has_value) {
        if (i + 1 >= words.size())
          return absl::InvalidArgumentError("flag needs an argument: --rev");
        value = words[++i];
      }
      absl::StatusOr<int64_t> rev = GoParseInt(value, 10);
      if (!rev.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid argument ", GoQuote(value), " for \"--rev\" flag: ", rev.status().message()));
      }
      out->rev = *rev;
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown flag: --", name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WatchArgs> ParseWatchArgs(const std::vector<std::string>& raw_args,
                                         const std::vector<std::string>& positional,
                                         const std::string& env_key, const std::string& env_range) {
  std::vector<std::string> raw = raw_args;
  if (auto watch = std::find(raw.begin(), raw.end(), "watch"); watch != raw.end()) {
    raw.erase(raw.begin(), watch + 1);
  }
  auto sep = std::find(raw.begin(), raw.end(), "--");
  const bool has_sep = sep != raw.end();
  if (has_sep && sep + 1 == raw.end()) return BadArgs(kSeparator);
  if (!has_sep && raw.empty() && env_key.empty()) return BadArgs(kBadArgsNum);
  WatchArgs args;
  args.exec = AfterSeparator(raw);
  // With an env key, any positional word before "--" conflicts with it.
  if (!env_key.empty() && positional.size() > args.exec.size() && has_sep) {
    return BadArgs(kConflictEnv);
  }
  if (!env_key.empty() && !has_sep && !positional.empty()) return BadArgs(kConflictEnv);
  args.keys = KeysOf(positional, args.exec, env_key, env_range);
  return args;
}

absl::StatusOr<WatchArgs> ParseInteractiveWatch(const std::vector<std::string>& line,
                                                const std::string& env_key,
                                                const std::string& env_range) {
  if (line.empty() || line[0] != "watch") {
    return BadArgs("args[0] must be 'watch' for interactive calls");
  }
  const std::vector<std::string> words(line.begin() + 1, line.end());
  auto sep = std::find(words.begin(), words.end(), "--");
  const bool has_sep = sep != words.end();
  if (has_sep && sep + 1 == words.end()) return BadArgs(kSeparator);
  WatchArgs args;
  std::vector<std::string> positional;
  if (absl::Status status = ParseLineFlags(words, &args, &positional); !status.ok()) {
    return BadArgs(std::string(status.message()));
  }
  if (!has_sep && env_key.empty() && positional.empty()) return BadArgs(kBadArgsNum);
  if (!has_sep && !positional.empty() && !env_key.empty()) return BadArgs(kConflictEnv);
  args.exec = AfterSeparator(words);
  args.keys = KeysOf(positional, args.exec, env_key, env_range);
  return args;
}

absl::StatusOr<KeyRange> WatchRange(const std::vector<std::string>& keys, bool prefix) {
  if (keys.empty()) return BadArgs(kBadArgsNum);
  if (keys.size() == 2) {
    if (prefix) return BadArgs("`range_end` and `--prefix` are mutually exclusive");
    // An empty range end means the single key, as in etcd.
    if (keys[1].empty()) return KeyRange::Key(keys[0]);
    return KeyRange::Between(keys[0], keys[1]);
  }
  if (prefix) return KeyRange::Prefix(keys[0]);
  return KeyRange::Key(keys[0]);
}

}  // namespace etcdgrpc::cli
