#include "cli/txn_parser.h"

#include <algorithm>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"
#include "cli/kv_flags.h"

namespace etcdgrpc::cli {
namespace {

// White space of Go's regexp \s, which argify splits on (no \v).
bool IsRegexpSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

absl::Status InvalidInput(std::string message) {
  return CliError(kExitInvalidInput, std::move(message));
}

absl::StatusOr<Compare> MakeCompare(const std::string& line, const std::string& op,
                                    const NumericCompare& target, int64_t operand) {
  if (op == "=") return target.Equal(operand);
  if (op == "!=") return target.NotEqual(operand);
  if (op == ">") return target.Greater(operand);
  if (op == "<") return target.Less(operand);
  // etcdctl panics here ("Unknown result op").
  return InvalidInput(absl::StrCat("malformed comparison: ", line, " (unknown operator ", op, ")"));
}

absl::StatusOr<Compare> MakeCompare(const std::string& line, const std::string& op,
                                    const ValueCompare& target, std::string operand) {
  if (op == "=") return target.Equal(std::move(operand));
  if (op == "!=") return target.NotEqual(std::move(operand));
  if (op == ">") return target.Greater(std::move(operand));
  if (op == "<") return target.Less(std::move(operand));
  return InvalidInput(absl::StrCat("malformed comparison: ", line, " (unknown operator ", op, ")"));
}

// Reads one line the way Go's bufio.Reader.ReadString('\n') is used by
// etcdctl: input that ends before a newline is an error, even with text on it.
absl::StatusOr<std::string> ReadLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (in.eof() || in.fail()) return InvalidInput("EOF");
  return line;
}

template <class T, class Parse>
absl::StatusOr<std::vector<T>> ReadSection(std::istream& in, Parse parse) {
  std::vector<T> items;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(in);
    if (!line.ok()) return line.status();
    std::string_view trimmed = GoTrimSpace(*line);
    if (trimmed.empty()) return items;
    absl::StatusOr<T> item = parse(trimmed);
    if (!item.ok()) return item.status();
    items.push_back(*std::move(item));
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Argify(std::string_view line) {
  // A hand-written form of etcdctl's regexp
  //   "(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?
  // applied leftmost-first: characters that start no match (white space, an
  // unterminated quote) are skipped.
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < line.size()) {
    const char c = line[pos];
    if (c == '"') {
      size_t i = pos + 1;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '\\') {
          // `\\.`: `.` does not match a newline.
          if (i + 1 >= line.size() || line[i + 1] == '\n') break;
          i += 2;
        } else if (line[i] == '"') {
          closed = true;
          break;
        } else {
          ++i;
        }
      }
      if (!closed) {
        ++pos;
        continue;
      }
      // etcdctl unquotes with fmt.Sscanf("%q"); its failure is exit code 3.
      GoScanner scanner(line.substr(pos, i + 1 - pos));
      std::string value;
      if (!scanner.ScanQuoted(&value)) return InvalidInput("invalid syntax");
      args.push_back(std::move(value));
      pos = i + 1;
    } else if (c == '\'') {
      const size_t end = line.find('\'', pos + 1);
      if (end == std::string_view::npos) {
        ++pos;
        continue;
      }
      args.emplace_back(line.substr(pos + 1, end - pos - 1));
      pos = end + 1;
    } else if (IsRegexpSpace(c)) {
      ++pos;
    } else {
      const size_t start = pos;
      while (pos < line.size() && !IsRegexpSpace(line[pos])) ++pos;
      args.emplace_back(line.substr(start, pos - start));
    }
  }
  return args;
}

absl::StatusOr<Compare> ParseCompare(std::string_view text) {
  const std::string line(text);
  const size_t lparen = line.find('(');
  if (lparen == std::string_view::npos) {
    return InvalidInput(absl::StrCat("malformed comparison: ", line));
  }
  const std::string target(line.substr(0, lparen));
  // fmt.Sscanf(rest, "%q) %s %q", &key, &op, &val)
  GoScanner scanner(std::string_view(line).substr(lparen + 1));
  std::string key, op, val;
  int scanned = 0;
  if (scanner.ScanQuoted(&key)) {
    scanned = 1;
    if (scanner.MatchLiteral(')') && scanner.MatchSpace() && scanner.ScanWord(&op)) {
      scanned = 2;
      if (scanner.MatchSpace() && scanner.ScanQuoted(&val)) scanned = 3;
    }
  }
  if (scanned != 3) {
    return InvalidInput(absl::StrCat("malformed comparison: ", line, "; got ", target, "(",
                                     GoQuote(key), ") ", op, " ", GoQuote(val)));
  }
  const auto numeric = [&](int base) -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> value = GoParseInt(val, base);
    if (!value.ok()) return InvalidInput(absl::StrCat("invalid txn compare request: ", line));
    return value;
  };
  if (target == "ver" || target == "version" || target == "c" || target == "create" ||
      target == "m" || target == "mod" || target == "lease") {
    absl::StatusOr<int64_t> operand = numeric(target == "lease" ? 16 : 10);
    if (!operand.ok()) return operand.status();
    if (target == "ver" || target == "version") {
      return MakeCompare(line, op, Compare::Version(key), *operand);
    }
    if (target == "c" || target == "create") {
      return MakeCompare(line, op, Compare::CreateRevision(key), *operand);
    }
    if (target == "m" || target == "mod") {
      return MakeCompare(line, op, Compare::ModRevision(key), *operand);
    }
    return MakeCompare(line, op, Compare::Lease(key), *operand);
  }
  if (target == "val" || target == "value") {
    return MakeCompare(line, op, Compare::Value(key), std::move(val));
  }
  return InvalidInput(
      absl::StrCat("malformed comparison: ", line, " (unknown target ", target, ")"));
}

absl::StatusOr<Op> ParseTxnOp(std::string_view text) {
  const std::string line(text);
  absl::StatusOr<std::vector<std::string>> args = Argify(line);
  if (!args.ok()) return args.status();
  if (args->size() < 2) {
    return InvalidInput(absl::StrCat("invalid txn compare request: ", line));
  }
  const absl::Status invalid_request = InvalidInput(absl::StrCat("invalid txn request: ", line));

  // The same flag definitions as the commands, as etcdctl does.
  CLI::App app;
  app.require_subcommand(1, 1);
  GetFlags get_flags;
  PutFlags put_flags;
  DelFlags del_flags;
  CLI::App* get = app.add_subcommand("get");
  CLI::App* put = app.add_subcommand("put");
  CLI::App* del = app.add_subcommand("del");
  AddGetFlags(*get, &get_flags);
  AddPutFlags(*put, &put_flags);
  AddDelFlags(*del, &del_flags);
  std::vector<std::string> reversed(args->rbegin(), args->rend());
  try {
    app.parse(std::move(reversed));
  } catch (const CLI::ParseError&) {
    return invalid_request;
  }
  // A bad flag value is a parse error for cobra too.
  const auto check = [&](const absl::Status& status) {
    return WantsUsage(status) ? invalid_request : status;
  };
  if (get->parsed()) {
    absl::StatusOr<GetPlan> plan = MakeGetPlan(get_flags);
    if (!plan.ok()) return check(plan.status());
    return Op::Range(plan->range, plan->options);
  }
  if (put->parsed()) {
    absl::StatusOr<PutPlan> plan = MakePutPlan(put_flags, nullptr);
    if (!plan.ok()) return check(plan.status());
    return Op::Put(plan->key, plan->value, plan->options);
  }
  absl::StatusOr<DeletePlan> plan = MakeDeletePlan(del_flags);
  if (!plan.ok()) return check(plan.status());
  return Op::DeleteRange(plan->range, plan->options);
}

absl::StatusOr<TxnRequest> ReadTxn(std::istream& in,
                                   const std::function<void(std::string_view)>& prompt) {
  const auto show = [&](std::string_view text) {
    if (prompt) prompt(text);
  };
  TxnRequest txn;
  show("compares:");
  absl::StatusOr<std::vector<Compare>> compares = ReadSection<Compare>(in, ParseCompare);
  if (!compares.ok()) return compares.status();
  txn.compares = *std::move(compares);
  show("success requests (get, put, del):");
  absl::StatusOr<std::vector<Op>> success = ReadSection<Op>(in, ParseTxnOp);
  if (!success.ok()) return success.status();
  txn.success = *std::move(success);
  show("failure requests (get, put, del):");
  absl::StatusOr<std::vector<Op>> failure = ReadSection<Op>(in, ParseTxnOp);
  if (!failure.ok()) return failure.status();
  txn.failure = *std::move(failure);
  return txn;
}

}  // namespace etcdgrpc::cli
