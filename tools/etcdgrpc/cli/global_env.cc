#include "cli/global_env.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace etcdgrpc::cli {

std::string FlagToEnv(std::string_view name) {
  std::string env = "ETCDCTL_";
  for (char c : name) {
    env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return env;
}

EnvOutcome ApplyEnvironment(const std::vector<std::string>& environ_entries,
                            const std::vector<std::string>& extra_names, GlobalFlags* flags) {
  // os.Getenv: the first entry of a name wins.
  std::map<std::string, std::string> values;
  for (const std::string& entry : environ_entries) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    values.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  values.erase("ETCDCTL_API");

  std::vector<std::string> names = GlobalFlagNames();
  names.insert(names.end(), extra_names.begin(), extra_names.end());
  std::sort(names.begin(), names.end());
  std::set<std::string> already_set;
  std::set<std::string> used;
  for (const std::string& name : names) {
    const std::string key = FlagToEnv(name);
    if (flags->changed.count(name) > 0) {
      already_set.insert(key);
      continue;
    }
    auto value = values.find(key);
    if (value == values.end() || value->second.empty()) continue;
    used.insert(key);
    const bool extra = std::find(extra_names.begin(), extra_names.end(), name) != extra_names.end();
    if (!extra && SetGlobalFlag(flags, name, value->second)) flags->changed.insert(name);
  }

  EnvOutcome outcome;
  for (const std::string& entry : environ_entries) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = entry.substr(0, eq);
    if (key == "ETCDCTL_API" || used.count(key) > 0) continue;
    if (already_set.count(key) > 0) {
      outcome.notices.push_back(
          {'C', absl::StrCat("conflicting environment variable \"", key,
                             "\" is shadowed by corresponding command-line flag (either unset "
                             "environment variable or disable flag)")});
      outcome.fatal = true;
      return outcome;
    }
    if (entry.starts_with("ETCDCTL_")) {
      outcome.notices.push_back({'W', absl::StrCat("unrecognized environment variable ", entry)});
    }
  }
  return outcome;
}

std::vector<std::string> ProcessEnvironment() {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  return entries;
}

std::string CapnslogLine(absl::Time now, const EnvNotice& notice) {
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%E6S", now, absl::LocalTimeZone()), " ",
                      std::string(1, notice.severity), " | pkg/flags: ", notice.text, "\n");
}

}  // namespace etcdgrpc::cli
