// cobra's command lookup with EnablePrefixMatching, as etcdctl has it: a word
// names a command when it equals its name or is a prefix of exactly one
// command's name at that level ("memb lis" = "member list"); flags and their
// values are skipped the way cobra's stripFlags skips them. Also cobra's
// "Did you mean this?" suggestions for a word that names nothing.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace etcdgrpc::cli {

// One command or group of the tree, built from the command registry.
struct CommandNode {
  std::string name;
  std::vector<CommandNode> children;
  // Flags that take no value ("--hex", "-i"), this command's and the global
  // ones: cobra skips the word after any other flag given without "=".
  std::set<std::string> bool_flags;
  // One of etcdctl's commands (not services, resolve, register, ui...): a
  // prefix that names only one of etcdctl's keeps naming it beside ours.
  bool etcdctl = true;
};

// cobra's findNext: the child `word` names, exactly or as the prefix of only
// one child's name; nullptr if none or several. When several match, the only
// one of etcdctl's among them wins (`u` is `user` as in etcdctl, though `ui`
// starts with it too).
[[nodiscard]] const CommandNode* FindChild(const CommandNode& node, std::string_view word);

// Rewrites the words that name commands to the commands' full names, level by
// level, as far as they name one; other words are left as they are (the parser
// then reports them as cobra would).
[[nodiscard]] std::vector<std::string> ExpandCommandPrefixes(const CommandNode& root,
                                                             std::vector<std::string> args);

// cobra's SuggestionsFor: the children within Levenshtein distance 2 of
// `word` (ignoring case) or having it as a prefix, in the children's order;
// our own commands (not etcdctl's) only by prefix.
[[nodiscard]] std::vector<std::string> SuggestCommands(const CommandNode& node,
                                                       std::string_view word);

}  // namespace etcdgrpc::cli
