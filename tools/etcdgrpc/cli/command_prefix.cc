#include "cli/command_prefix.h"

#include <algorithm>
#include <cctype>

namespace etcdgrpc::cli {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// cobra's ld(s, t, ignoreCase=true).
size_t Levenshtein(std::string_view a_text, std::string_view b_text) {
  const std::string a = Lower(a_text);
  const std::string b = Lower(b_text);
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Whether cobra's stripFlags skips the word after `arg` (a flag given without
// "=" whose flag takes a value, or one it does not know).
bool TakesNextWord(const CommandNode& node, std::string_view arg) {
  if (arg.find('=') != std::string_view::npos) return false;
  if (arg.starts_with("--")) return node.bool_flags.count(std::string(arg.substr(2))) == 0;
  if (arg.size() == 2 && arg[0] == '-')
    return node.bool_flags.count(std::string(arg.substr(1))) == 0;
  return false;
}

}  // namespace

const CommandNode* FindChild(const CommandNode& node, std::string_view word) {
  const CommandNode* only = nullptr;
  const CommandNode* only_etcdctl = nullptr;
  int matches = 0;
  int etcdctl_matches = 0;
  for (const CommandNode& child : node.children) {
    if (child.name == word) return &child;
    if (std::string_view(child.name).starts_with(word)) {
      only = &child;
      ++matches;
      if (child.etcdctl) {
        only_etcdctl = &child;
        ++etcdctl_matches;
      }
    }
  }
  if (matches == 1) return only;
  return etcdctl_matches == 1 ? only_etcdctl : nullptr;
}

std::vector<std::string> ExpandCommandPrefixes(const CommandNode& root,
                                               std::vector<std::string> args) {
  const CommandNode* node = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      if (TakesNextWord(*node, arg)) {
        // cobra stops looking when the flag's value is the last word.
        if (i + 2 >= args.size()) break;
        ++i;
      }
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    const CommandNode* child = FindChild(*node, arg);
    if (child == nullptr) break;
    args[i] = child->name;
    node = child;
  }
  return args;
}

std::vector<std::string> SuggestCommands(const CommandNode& node, std::string_view word) {
  std::vector<std::string> suggestions;
  for (const CommandNode& child : node.children) {
    // Our own commands only by prefix: a name as short as `ui` is within
    // cobra's distance of 2 of every short word, and etcdctl's suggestions
    // stay as etcdctl prints them.
    const bool near = child.etcdctl && Levenshtein(word, child.name) <= 2;
    if (near || Lower(child.name).starts_with(Lower(word))) {
      suggestions.push_back(child.name);
    }
  }
  return suggestions;
}

}  // namespace etcdgrpc::cli
