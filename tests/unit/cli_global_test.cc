// Tests of the CLI's pure global behaviour: cobra's command prefixes and
// suggestions, etcdctl's ETCDCTL_* variables (pkg/flags), the fields and
// protobuf printers (against bytes captured from etcdctl 3.4.23), and watch's
// argument rules.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/command_prefix.h"
#include "cli/fields_format.h"
#include "cli/global_env.h"
#include "cli/global_flags.h"
#include "cli/protobuf_format.h"
#include "cli/watch_args.h"
#include "cli/watch_exec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

CommandNode Tree() {
  const std::set<std::string> globals = {"hex", "h", "help", "insecure-transport"};
  auto leaf = [&](std::string name, std::set<std::string> extra = {}) {
    CommandNode node{.name = std::move(name), .children = {}, .bool_flags = globals};
    node.bool_flags.insert(extra.begin(), extra.end());
    return node;
  };
  CommandNode member = leaf("member");
  member.children = {leaf("add"), leaf("list"), leaf("remove")};
  CommandNode root = leaf("etcdgrpc");
  root.children = {leaf("get", {"prefix"}), leaf("compaction"), leaf("member"), leaf("make-mirror"),
                   leaf("watch", {"i", "interactive", "prefix"})};
  root.children[2] = member;
  return root;
}

TEST(CommandPrefixTest, UnambiguousPrefixesNameCommandsLevelByLevel) {
  const CommandNode root = Tree();
  EXPECT_THAT(ExpandCommandPrefixes(root, {"comp", "3"}), ElementsAre("compaction", "3"));
  EXPECT_THAT(ExpandCommandPrefixes(root, {"memb", "l"}), ElementsAre("member", "list"));
  EXPECT_THAT(ExpandCommandPrefixes(root, {"--endpoints", "x", "g", "k"}),
              ElementsAre("--endpoints", "x", "get", "k"));
  // A bool flag takes no value: the next word is the command.
  EXPECT_THAT(ExpandCommandPrefixes(root, {"--hex", "g", "k"}), ElementsAre("--hex", "get", "k"));
  EXPECT_THAT(ExpandCommandPrefixes(root, {"--endpoints=x", "g"}),
              ElementsAre("--endpoints=x", "get"));
  // The exact name wins over prefixes; words after the command stay.
  EXPECT_THAT(ExpandCommandPrefixes(root, {"get", "comp"}), ElementsAre("get", "comp"));
}

TEST(CommandPrefixTest, AmbiguousOrUnknownWordsAreLeftForTheParser) {
  const CommandNode root = Tree();
  EXPECT_THAT(ExpandCommandPrefixes(root, {"m", "list"}), ElementsAre("m", "list"));
  EXPECT_THAT(ExpandCommandPrefixes(root, {"x"}), ElementsAre("x"));
  EXPECT_EQ(FindChild(root, "m"), nullptr);
  EXPECT_EQ(FindChild(root, "ma")->name, "make-mirror");
  // cobra stops when a value-taking flag's value is the last word.
  EXPECT_THAT(ExpandCommandPrefixes(root, {"--endpoints", "g"}), ElementsAre("--endpoints", "g"));
}

TEST(CommandPrefixTest, APrefixOfOneEtcdctlCommandKeepsNamingItBesideOurs) {
  CommandNode root = Tree();
  CommandNode ui{.name = "ui", .children = {}, .bool_flags = {}, .etcdctl = false};
  CommandNode user{.name = "user", .children = {}, .bool_flags = {}};
  CommandNode services{.name = "services", .children = {}, .bool_flags = {}, .etcdctl = false};
  CommandNode resolve{.name = "resolve", .children = {}, .bool_flags = {}, .etcdctl = false};
  CommandNode registered{.name = "register", .children = {}, .bool_flags = {}, .etcdctl = false};
  root.children.insert(root.children.end(), {ui, user, services, resolve, registered});
  EXPECT_EQ(FindChild(root, "u")->name, "user");
  EXPECT_EQ(FindChild(root, "ui")->name, "ui");
  EXPECT_EQ(FindChild(root, "s")->name, "services");
  // Two of ours and none of etcdctl's: ambiguous, as cobra says.
  EXPECT_EQ(FindChild(root, "re"), nullptr);
  EXPECT_EQ(FindChild(root, "res")->name, "resolve");
  // Ours are suggested by prefix only, never for being near a short word.
  EXPECT_THAT(SuggestCommands(root, "m"), ElementsAre("member", "make-mirror"));
  EXPECT_THAT(SuggestCommands(root, "re"), ElementsAre("get", "resolve", "register"));
}

TEST(CommandPrefixTest, SuggestionsAreCobras) {
  const CommandNode root = Tree();
  EXPECT_THAT(SuggestCommands(root, "m"), ElementsAre("member", "make-mirror"));
  EXPECT_THAT(SuggestCommands(root, "gett"), ElementsAre("get"));
  EXPECT_THAT(SuggestCommands(root, "xyz"), IsEmpty());
  EXPECT_THAT(SuggestCommands(root, "WATCH"), ElementsAre("watch"));
}

TEST(GlobalEnvTest, VariablesSetFlagsNotGivenAndReportConflicts) {
  EXPECT_EQ(FlagToEnv("insecure-skip-tls-verify"), "ETCDCTL_INSECURE_SKIP_TLS_VERIFY");
  GlobalFlags flags;
  EnvOutcome outcome =
      ApplyEnvironment({"ETCDCTL_API=3", "ETCDCTL_ENDPOINTS=a:1,b:2", "ETCDCTL_DIAL_TIMEOUT=3s",
                        "ETCDCTL_INSECURE_TRANSPORT=false", "ETCDCTL_WRITE_OUT=json", "PATH=/bin"},
                       {}, &flags);
  EXPECT_FALSE(outcome.fatal);
  EXPECT_THAT(outcome.notices, IsEmpty());
  EXPECT_THAT(flags.endpoints, ElementsAre("a:1", "b:2"));
  EXPECT_EQ(flags.dial_timeout, "3s");
  EXPECT_FALSE(flags.insecure_transport);
  EXPECT_EQ(flags.write_out, "json");
  EXPECT_TRUE(flags.changed.contains("dial-timeout"));
}

TEST(GlobalEnvTest, BadValuesAreIgnoredUnknownVariablesWarnedShadowedOnesFatal) {
  GlobalFlags flags;
  flags.changed.insert("command-timeout");
  EnvOutcome outcome =
      ApplyEnvironment({"ETCDCTL_DIAL_TIMEOUT=xx", "ETCDCTL_HEX=maybe", "ETCDCTL_FOO=1",
                        "ETCDCTL_COMMAND_TIMEOUT=1s", "ETCDCTL_BAR=2"},
                       {}, &flags);
  EXPECT_EQ(flags.dial_timeout, "2s");
  EXPECT_FALSE(flags.hex);
  ASSERT_EQ(outcome.notices.size(), 2u);
  EXPECT_EQ(outcome.notices[0].severity, 'W');
  EXPECT_EQ(outcome.notices[0].text, "unrecognized environment variable ETCDCTL_FOO=1");
  EXPECT_EQ(outcome.notices[1].severity, 'C');
  EXPECT_EQ(outcome.notices[1].text,
            "conflicting environment variable \"ETCDCTL_COMMAND_TIMEOUT\" is shadowed by "
            "corresponding command-line flag (either unset environment variable or disable flag)");
  EXPECT_TRUE(outcome.fatal);
  EXPECT_EQ(CapnslogLine(absl::FromUnixMicros(1), {'W', "x"}).substr(26), " W | pkg/flags: x\n");
}

TEST(GlobalEnvTest, WatchKeysAreKnownToWatchOnly) {
  GlobalFlags flags;
  EXPECT_THAT(
      ApplyEnvironment({"ETCDCTL_WATCH_KEY=k"}, {"watch-key", "watch-range-end"}, &flags).notices,
      IsEmpty());
  EXPECT_EQ(ApplyEnvironment({"ETCDCTL_WATCH_KEY=k"}, {}, &flags).notices.size(), 1u);
}

ResponseHeader Header(int64_t revision) {
  return {.cluster_id = 16128400632968936350u,
          .member_id = 17010963214147749224u,
          .revision = revision,
          .raft_term = 2};
}

TEST(FieldsFormatTest, GetAndPutAsEtcdctlPrintsThem) {
  GetResult get{.header = Header(3),
                .kvs = {{.key = "k\"1",
                         .value = "v\n",
                         .create_revision = 2,
                         .mod_revision = 3,
                         .version = 2,
                         .lease = 0}},
                .more = false,
                .count = 1};
  EXPECT_EQ(FieldsGet(get),
            "\"ClusterID\" : 16128400632968936350\n\"MemberID\" : 17010963214147749224\n"
            "\"Revision\" : 3\n\"RaftTerm\" : 2\n\"Key\" : \"k\\\"1\"\n\"CreateRevision\" : 2\n"
            "\"ModRevision\" : 3\n\"Version\" : 2\n\"Value\" : \"v\\n\"\n\"Lease\" : 0\n"
            "\"More\" : false\n\"Count\" : 1\n");
  PutResult put{.header = Header(4), .prev_kv = std::nullopt};
  EXPECT_EQ(FieldsPut(put), FieldsHeader(Header(4)));
}

TEST(ProtobufFormatTest, HeaderBytesMatchEtcdctl) {
  // etcdctl lease grant -w protobuf, captured (xxd) from etcdctl 3.4.23.
  const std::string expected = {'\x08', '\x9e', '\xf7', '\xb1', '\xda', '\xc7', '\xdd',
                                '\xe5', '\xe9', '\xdf', '\x01', '\x10', '\xe8', '\x8a',
                                '\x8e', '\x94', '\xa5', '\x9d', '\xc5', '\x89', '\xec',
                                '\x01', '\x18', '\x02', '\x20', '\x02'};
  EXPECT_EQ(ProtobufHeaderOnly(Header(2)), expected);
  EXPECT_EQ(ProtobufLeaseRevoke(Header(4)).message(),
            "marshal unsupported for type clientv3.LeaseRevokeResponse ({cluster_id:"
            "16128400632968936350 member_id:17010963214147749224 revision:4 raft_term:2 })");
}

TEST(FieldsFormatTest, AuthAlarmEndpointAndSnapshotAsEtcdctlPrintsThem) {
  const ResponseHeader header = {.cluster_id = 1, .member_id = 2, .revision = 3, .raft_term = 4};
  const std::string fields_header =
      "\"ClusterID\" : 1\n\"MemberID\" : 2\n\"Revision\" : 3\n\"RaftTerm\" : 4\n";
  RoleGetResult role{
      .header = header,
      .permissions = {{.type = PermissionType::kReadWrite, .range = KeyRange::Between("a", "b")},
                      {.type = PermissionType::kRead, .range = KeyRange::Key("k")}}};
  // fmt.Println(`"PermType" : `, ...) puts two spaces before the name.
  EXPECT_EQ(FieldsRoleGet(role), fields_header +
                                     "\"PermType\" :  READWRITE\n\"Key\" : \"a\"\n"
                                     "\"RangeEnd\" : \"b\"\n\"PermType\" :  READ\n"
                                     "\"Key\" : \"k\"\n\"RangeEnd\" : \"\"\n");
  EXPECT_EQ(FieldsRoleList({.header = header, .roles = {"r1", "r\"2"}}),
            fields_header + "\"Roles\" : \"r1\" \"r\\\"2\"\n");
  EXPECT_EQ(FieldsRoleList({.header = header, .roles = {}}), fields_header + "\"Roles\" :\n");
  EXPECT_EQ(
      FieldsAlarms({.header = header, .alarms = {{.member_id = 5, .alarm = AlarmType::kNoSpace}}}),
      fields_header + "\"MemberID\" : 5\n\"AlarmType\" : NOSPACE\n\n");
  EXPECT_EQ(FieldsEndpointHealth(
                {{.endpoint = "127.0.0.1:2379", .health = true, .took = "1.5ms", .error = ""}}),
            "\"Endpoint\" : \"127.0.0.1:2379\"\n\"Health\" : true\n\"Took\" : 1.5ms\n"
            "\"Error\" : \n\n");
  EXPECT_EQ(FieldsEndpointHashKV(
                {{.endpoint = "e", .hash = {.header = header, .hash = 42, .compact_revision = 0}}}),
            fields_header + "\"Endpoint\" : \"e\"\n\"Hash\" : 42\n\n");
  EXPECT_EQ(FieldsSnapshotStatus({.hash = 7, .revision = 8, .total_key = 9, .total_size = 10}),
            "\"Hash\" : 7\n\"Revision\" : 8\n\"Keys\" : 9\n\"Size\" : 10\n");
}

TEST(ProtobufFormatTest, AuthMemberAlarmAndMoveLeaderBytes) {
  const ResponseHeader header = {.cluster_id = 1, .member_id = 2, .revision = 3, .raft_term = 4};
  const std::string header_field("\x0a\x08\x08\x01\x10\x02\x18\x03\x20\x04", 10);
  EXPECT_EQ(ProtobufAuthHeader(header), header_field);
  EXPECT_EQ(ProtobufUserGet({.header = header, .roles = {"r"}}), header_field + "\x12\x01r");
  EXPECT_EQ(ProtobufUserList({.header = header, .users = {"u1"}}), header_field + "\x12\x02u1");
  EXPECT_EQ(ProtobufRoleList({.header = header, .roles = {"r"}}), header_field + "\x12\x01r");
  // READ (0) is left out of its permission, as gogoproto leaves zero values out.
  EXPECT_EQ(ProtobufRoleGet(
                {.header = header,
                 .permissions = {{.type = PermissionType::kReadWrite,
                                  .range = KeyRange::Between("a", "b")},
                                 {.type = PermissionType::kRead, .range = KeyRange::Key("k")}}}),
            header_field + std::string("\x12\x08\x08\x02\x12\x01"
                                       "a\x1a\x01"
                                       "b\x12\x03\x12\x01k",
                                       15));
  const Member member = {.id = 16, .name = "", .peer_urls = {"p"}, .client_urls = {}};
  EXPECT_EQ(ProtobufMemberAdd({.header = header, .member = member, .members = {member}}),
            header_field + "\x12\x05\x08\x10\x1a\x01p\x1a\x05\x08\x10\x1a\x01p");
  // No header when etcd sent none (etcd 3.4's Alarm and MoveLeader answers).
  EXPECT_EQ(
      ProtobufAlarms({.header = {}, .alarms = {{.member_id = 5, .alarm = AlarmType::kNoSpace}}},
                     /*with_header=*/false),
      std::string("\x12\x04\x08\x05\x10\x01", 6));
  EXPECT_EQ(ProtobufMoveLeader({.header = {}, .from = 1, .to = 2}), "");
  EXPECT_EQ(ProtobufMoveLeader({.header = header, .from = 1, .to = 2}), header_field);
}

TEST(WatchArgsTest, SeparatorEnvironmentAndConflicts) {
  absl::StatusOr<WatchArgs> args =
      ParseWatchArgs({"--endpoints=x", "watch", "--rev", "1", "sample", "--", "echo", "hi"},
                     {"sample", "echo", "hi"}, "", "");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->keys, ElementsAre("sample"));
  EXPECT_THAT(args->exec, ElementsAre("echo", "hi"));
  args = ParseWatchArgs({"watch", "--rev", "1", "--", "echo"}, {"echo"}, "sample", "samplx");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->keys, ElementsAre("sample", "samplx"));
  EXPECT_EQ(ParseWatchArgs({"watch", "foo", "--"}, {"foo"}, "", "").status().message(),
            "bad number of arguments (found separator --, but no commands)");
  EXPECT_EQ(ParseWatchArgs({"watch", "foo"}, {"foo"}, "k", "").status().message(),
            "bad number of arguments (found conflicting environment key)");
  EXPECT_EQ(
      ParseWatchArgs({"watch", "foo", "--", "echo"}, {"foo", "echo"}, "k", "").status().message(),
      "bad number of arguments (found conflicting environment key)");
  EXPECT_EQ(ParseWatchArgs({"watch"}, {}, "", "").status().message(), "bad number of arguments");
}

TEST(WatchArgsTest, InteractiveLines) {
  absl::StatusOr<WatchArgs> args =
      ParseInteractiveWatch({"watch", "key", "--rev", "2", "--prefix", "--prev-kv"}, "", "");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->keys, ElementsAre("key"));
  EXPECT_EQ(args->rev, 2);
  EXPECT_TRUE(args->prefix);
  EXPECT_TRUE(args->prev_kv);
  args = ParseInteractiveWatch({"watch", "a", "b", "--", "echo", "x"}, "", "");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->keys, ElementsAre("a", "b"));
  EXPECT_THAT(args->exec, ElementsAre("echo", "x"));
  EXPECT_EQ(ParseInteractiveWatch({"watch", "a", "--bogus"}, "", "").status().message(),
            "unknown flag: --bogus");
  EXPECT_EQ(ParseInteractiveWatch({"watch", "a", "--rev", "x"}, "", "").status().message(),
            "invalid argument \"x\" for \"--rev\" flag: strconv.ParseInt: parsing \"x\": invalid "
            "syntax");
  EXPECT_EQ(WatchRange({"a", "b"}, true).status().message(),
            "`range_end` and `--prefix` are mutually exclusive");
  // etcdctl ignores keys beyond the range end.
  EXPECT_EQ(*WatchRange({"a", "b", "c"}, false), KeyRange::Key("a"));
}

TEST(WatchExecTest, EnvironmentIsGoQuoted) {
  Event event{.type = EventType::kPut, .kv = {.key = "k", .value = "a b"}, .prev_kv = std::nullopt};
  EXPECT_THAT(WatchEventEnvironment(7, event),
              ElementsAre("ETCD_WATCH_REVISION=7", "ETCD_WATCH_EVENT_TYPE=\"PUT\"",
                          "ETCD_WATCH_KEY=\"k\"", "ETCD_WATCH_VALUE=\"a b\""));
  EXPECT_TRUE(RunWatchCommand({"true"}, {}).ok());
  EXPECT_EQ(RunWatchCommand({"false"}, {}).message(), "command [\"false\"] error (exit status 1)");
  EXPECT_EQ(RunWatchCommand({"no-such-command-x"}, {}).message(),
            "command [\"no-such-command-x\"] error (exec: \"no-such-command-x\": executable file "
            "not found in $PATH)");
}

}  // namespace
}  // namespace etcdgrpc::cli
