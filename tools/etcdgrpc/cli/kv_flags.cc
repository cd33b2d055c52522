#include "cli/kv_flags.h"

#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/go_text.h"

namespace etcdgrpc::cli {
namespace {

// etcd refuses an empty key with this message; the client library refuses it
// before sending, so the CLI reports what etcdctl would have received.
constexpr char kKeyNotProvided[] = "etcdserver: key is not provided";

// pflag's message for a value its parser refuses; etcdctl then prints usage.
absl::StatusOr<int64_t> ParseIntFlag(const char* name, const std::string& value) {
  absl::StatusOr<int64_t> parsed = GoParseInt(value, 10);
  if (!parsed.ok()) {
    return UsageError(absl::StrCat("invalid argument ", GoQuote(value), " for \"--", name,
                                   "\" flag: ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace

void AddGetFlags(CLI::App& app, GetFlags* flags) {
  app.add_option("key", flags->args, "<key> [range_end]")->type_name("");
  app.add_option("--consistency", flags->consistency, "Linearizable(l) or Serializable(s)")
      ->type_name("l|s")
      ->capture_default_str();
  app.add_option("--order", flags->order, "Order of results; ASCEND or DESCEND (ASCEND by default)")
      ->type_name("ORDER");
  app.add_option("--sort-by", flags->sort_by, "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION")
      ->type_name("TARGET");
  app.add_option("--limit", flags->limit, "Maximum number of results")
      ->type_name("INT")
      ->capture_default_str();
  app.add_option("--rev", flags->rev, "Specify the kv revision")
      ->type_name("INT")
      ->capture_default_str();
  app.add_flag("--prefix", flags->prefix, "Get keys with matching prefix");
  app.add_flag("--from-key", flags->from_key,
               "Get keys that are greater than or equal to the given key using byte compare");
  app.add_flag("--keys-only", flags->keys_only, "Get only the keys");
  app.add_flag("--count-only", flags->count_only, "Get only the count");
  app.add_flag("--print-value-only", flags->print_value_only,
               "Only write values when using the \"simple\" output format");
}

void AddPutFlags(CLI::App& app, PutFlags* flags) {
  app.add_option("key", flags->args, "<key> [<value>] (the value is read from stdin if omitted)")
      ->type_name("");
  app.add_option("--lease", flags->lease, "lease ID (in hexadecimal) to attach to the key")
      ->type_name("HEX")
      ->capture_default_str();
  app.add_flag("--prev-kv", flags->prev_kv,
               "return the previous key-value pair before modification");
  app.add_flag("--ignore-value", flags->ignore_value, "updates the key using its current value");
  app.add_flag("--ignore-lease", flags->ignore_lease, "updates the key using its current lease");
}

void AddDelFlags(CLI::App& app, DelFlags* flags) {
  app.add_option("key", flags->args, "<key> [range_end]")->type_name("");
  app.add_flag("--prefix", flags->prefix, "delete keys with matching prefix");
  app.add_flag("--prev-kv", flags->prev_kv, "return deleted key-value pairs");
  app.add_flag("--from-key", flags->from_key,
               "delete keys that are greater than or equal to the given key using byte compare");
}

bool IsEmptyRange(const KeyRange& range) {
  const std::string& end = range.range_end();
  if (end.empty() || end == std::string(1, '\0')) return false;
  return end <= range.key();
}

absl::StatusOr<GetPlan> MakeGetPlan(const GetFlags& flags) {
  // pflag converts numbers while parsing, before the command looks at anything.
  absl::StatusOr<int64_t> limit = ParseIntFlag("limit", flags.limit);
  if (!limit.ok()) return limit.status();
  absl::StatusOr<int64_t> rev = ParseIntFlag("rev", flags.rev);
  if (!rev.ok()) return rev.status();

  if (flags.args.empty()) {
    return CliError(kExitBadArgs,
                    "get command needs one argument as key and an optional argument as range_end");
  }
  if (flags.prefix && flags.from_key) {
    return CliError(kExitBadArgs,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  if (flags.keys_only && flags.count_only) {
    return CliError(kExitBadArgs,
                    "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
  }
  GetPlan plan;
  if (flags.consistency == "s") {
    plan.options.serializable = true;
  } else if (flags.consistency != "l") {
    return CliError(kExitBadFeature,
                    absl::StrCat("unknown consistency flag ", GoQuote(flags.consistency)));
  }
  const std::string& key = flags.args[0];
  const std::string* range_end = nullptr;
  if (flags.args.size() > 1) {
    if (flags.prefix || flags.from_key) {
      return CliError(kExitBadArgs,
                      "too many arguments, only accept one argument when `--prefix` or "
                      "`--from-key` is set");
    }
    range_end = &flags.args[1];
  }
  // etcd treats a negative limit as no limit; the library wants 0 for that.
  plan.options.limit = *limit > 0 ? *limit : 0;
  if (*rev > 0) plan.options.revision = *rev;

  const std::string order = absl::AsciiStrToUpper(flags.order);
  SortOrder sort_order = SortOrder::kNone;
  if (order == "ASCEND") {
    sort_order = SortOrder::kAscend;
  } else if (order == "DESCEND") {
    sort_order = SortOrder::kDescend;
  } else if (!order.empty()) {
    return CliError(kExitBadFeature, absl::StrCat("bad sort order ", flags.order));
  }
  const std::string target = absl::AsciiStrToUpper(flags.sort_by);
  SortTarget sort_target = SortTarget::kKey;
  if (target == "CREATE") {
    sort_target = SortTarget::kCreate;
  } else if (target == "KEY") {
    sort_target = SortTarget::kKey;
  } else if (target == "MODIFY") {
    sort_target = SortTarget::kMod;
  } else if (target == "VALUE") {
    sort_target = SortTarget::kValue;
  } else if (target == "VERSION") {
    sort_target = SortTarget::kVersion;
  } else if (!target.empty()) {
    return CliError(kExitBadFeature, absl::StrCat("bad sort target ", flags.sort_by));
  }
  // clientv3.WithSort: etcd already returns keys in ascending order, so that
  // combination is sent as "no sort" (the same request etcdctl sends).
  if (sort_target == SortTarget::kKey && sort_order == SortOrder::kAscend) {
    sort_order = SortOrder::kNone;
  }
  plan.options.sort_order = sort_order;
  plan.options.sort_target = sort_target;

  if (flags.prefix) {
    plan.range = KeyRange::Prefix(key);
  } else if (flags.from_key) {
    plan.range = KeyRange::FromKey(key);
  } else if (range_end != nullptr && !range_end->empty()) {
    if (key.empty()) return CliError(kExitError, kKeyNotProvided);
    plan.range = KeyRange::Between(key, *range_end);
  } else {
    if (key.empty()) return CliError(kExitError, kKeyNotProvided);
    plan.range = KeyRange::Key(key);
  }
  plan.options.keys_only = flags.keys_only;
  plan.options.count_only = flags.count_only;
  plan.print_value_only = flags.print_value_only;
  return plan;
}

absl::StatusOr<PutPlan> MakePutPlan(const PutFlags& flags, std::istream* value_input) {
  constexpr char kNeedsArgs[] = "put command needs 1 argument and input from stdin or 2 arguments";
  if (flags.args.empty()) return CliError(kExitBadArgs, kNeedsArgs);
  PutPlan plan;
  plan.key = flags.args[0];
  if (flags.ignore_value && flags.args.size() > 1) {
    return CliError(kExitBadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  if (!flags.ignore_value) {
    if (flags.args.size() > 1) {
      plan.value = flags.args[1];
    } else {
      // The value is stdin as is, trailing newline included (etcdctl's argOrStdin).
      if (value_input != nullptr) {
        plan.value.assign(std::istreambuf_iterator<char>(*value_input),
                          std::istreambuf_iterator<char>());
      }
      if (plan.value.empty()) return CliError(kExitBadArgs, kNeedsArgs);
    }
  }
  absl::StatusOr<int64_t> lease = GoParseInt(flags.lease, 16);
  if (!lease.ok()) {
    return CliError(kExitBadArgs, absl::StrCat("bad lease ID (", lease.status().message(),
                                               "), expecting ID in Hex"));
  }
  if (plan.key.empty()) return CliError(kExitError, kKeyNotProvided);
  // Lease ids are positive, so etcd can only answer this; the library refuses
  // to send a negative id.
  if (*lease < 0) return CliError(kExitError, "etcdserver: requested lease not found");
  plan.options.lease = *lease;
  plan.options.prev_kv = flags.prev_kv;
  plan.options.ignore_value = flags.ignore_value;
  plan.options.ignore_lease = flags.ignore_lease;
  return plan;
}

absl::StatusOr<DeletePlan> MakeDeletePlan(const DelFlags& flags) {
  if (flags.args.empty() || flags.args.size() > 2) {
    return CliError(kExitBadArgs,
                    "del command needs one argument as key and an optional argument as range_end");
  }
  if (flags.prefix && flags.from_key) {
    return CliError(kExitBadArgs,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  const std::string& key = flags.args[0];
  DeletePlan plan;
  if (flags.args.size() > 1 && (flags.prefix || flags.from_key)) {
    return CliError(kExitBadArgs,
                    "too many arguments, only accept one argument when `--prefix` or `--from-key` "
                    "is set");
  }
  if (flags.prefix) {
    plan.range = KeyRange::Prefix(key);
  } else if (flags.from_key) {
    plan.range = KeyRange::FromKey(key);
  } else if (flags.args.size() > 1 && !flags.args[1].empty()) {
    if (key.empty()) return CliError(kExitError, kKeyNotProvided);
    plan.range = KeyRange::Between(key, flags.args[1]);
  } else {
    if (key.empty()) return CliError(kExitError, kKeyNotProvided);
    plan.range = KeyRange::Key(key);
  }
  plan.options.prev_kv = flags.prev_kv;
  return plan;
}

}  // namespace etcdgrpc::cli
