// The wire audit against crafted JSON-lines logs: a clean log passes, and each broken rule
// (double or late renewal, repeated revision, gap after a re-create) and each kind of bad
// input is named with its line.
#include "cli/wire_audit.h"

#include <sstream>
#include <string>
#include <vector>

#include "etcdgrpc/wire_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::cli {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kKeepAlive = "/etcdserverpb.Lease/LeaseKeepAlive";
constexpr const char* kWatch = "/etcdserverpb.Watch/Watch";
constexpr const char* kRange = "/etcdserverpb.KV/Range";

// Builds a log with the library's own line format, so the audit reads what clients write.
class Log {
 public:
  Log& Add(double seconds, uint64_t call, const char* method, WireDirection direction,
           const nlohmann::json& body) {
    const std::string text = body.dump();
    lines_.push_back(
        FormatWireLogJsonLine(WireLogRecord{.time_us = static_cast<int64_t>(seconds * 1e6),
                                            .endpoint = "127.0.0.1:2379",
                                            .method = method,
                                            .call_id = call,
                                            .direction = direction,
                                            .bytes = text.size(),
                                            .text = text}));
    return *this;
  }
  Log& Raw(std::string line) {
    lines_.push_back(std::move(line));
    return *this;
  }
  // Renewal of `lease` and its answer with `ttl`, 10 ms later.
  Log& Renew(double seconds, uint64_t call, int64_t lease, int64_t ttl = 6) {
    Add(seconds, call, kKeepAlive, WireDirection::kSend, {{"ID", std::to_string(lease)}});
    return Add(seconds + 0.01, call, kKeepAlive, WireDirection::kReceive,
               {{"ID", std::to_string(lease)}, {"TTL", std::to_string(ttl)}});
  }
  Log& Create(double seconds, uint64_t call, int64_t id, int64_t start) {
    return Add(seconds, call, kWatch, WireDirection::kSend,
               {{"createRequest",
                 {{"key", "YQ=="}, {"startRevision", std::to_string(start)}, {"watchId", id}}}});
  }
  Log& Created(double seconds, uint64_t call, int64_t id, int64_t revision) {
    return Add(seconds, call, kWatch, WireDirection::kReceive,
               {{"header", {{"revision", std::to_string(revision)}}},
                {"watchId", std::to_string(id)},
                {"created", true}});
  }
  Log& Events(double seconds, uint64_t call, int64_t id, std::vector<int64_t> revisions) {
    nlohmann::json events = nlohmann::json::array();
    for (int64_t r : revisions) {
      events.push_back({{"kv", {{"key", "YQ=="}, {"modRevision", std::to_string(r)}}}});
    }
    return Add(seconds, call, kWatch, WireDirection::kReceive,
               {{"header", {{"revision", std::to_string(revisions.back())}}},
                {"watchId", std::to_string(id)},
                {"events", events}});
  }
  Log& End(double seconds, uint64_t call, const char* method, int code) {
    return Add(seconds, call, method, WireDirection::kEnd, {{"code", code}, {"message", ""}});
  }

  WireAuditReport Audit(bool final_newline = true) const {
    std::string text;
    for (const std::string& line : lines_) text.append(line).append("\n");
    if (!final_newline && !text.empty()) text.pop_back();
    std::istringstream in(text);
    return AuditWireLog(in);
  }

 private:
  std::vector<std::string> lines_;
};

std::vector<std::string> Kinds(const WireAuditReport& report) {
  std::vector<std::string> kinds;
  for (const WireAuditViolation& v : report.violations) kinds.push_back(v.kind);
  return kinds;
}

TEST(WireAuditTest, CleanLogHasNoViolationsAndCountsTraffic) {
  // TTL 6: renewed every 2 s after its answer. A break at 4.5 s: the new stream renews at
  // once (no double), and the watch resumes from the revision after its last event.
  Log log;
  log.Renew(0, 1, 7).Renew(2.02, 1, 7).Renew(4.04, 1, 7);
  log.End(4.5, 1, kKeepAlive, 14).Renew(4.6, 3, 7).Renew(6.62, 3, 7);
  log.Create(0, 2, 1, 5).Created(0.01, 2, 1, 9).Events(0.02, 2, 1, {5, 6, 8});
  log.End(4.5, 2, kWatch, 14).Create(4.6, 4, 1, 9).Created(4.61, 4, 1, 10);
  log.Events(4.62, 4, 1, {9, 10});
  const WireAuditReport report = log.Audit();
  EXPECT_THAT(report.violations, IsEmpty());
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_EQ(WireAuditExitCode(report), 0);
  ASSERT_THAT(report.leases, SizeIs(1));
  EXPECT_EQ(report.leases[0].renewals, 5);
  EXPECT_EQ(report.leases[0].answers, 5);
  ASSERT_THAT(report.watches, SizeIs(1));
  EXPECT_EQ(report.watches[0].events, 5);
  EXPECT_THAT(report.watches[0].creates, SizeIs(2));
  EXPECT_THAT(report.streams, SizeIs(4));
  ASSERT_THAT(report.methods, SizeIs(2));
  EXPECT_EQ(report.methods[0].method, kKeepAlive);
  EXPECT_EQ(report.methods[0].calls, 2);
  EXPECT_EQ(report.methods[0].failed, 1);
  EXPECT_EQ(report.methods[0].traffic.sent, 5);
  EXPECT_EQ(report.methods[0].traffic.received, 5);
  EXPECT_GT(report.methods[0].traffic.sent_bytes, 0);
}

TEST(WireAuditTest, NamesARenewalTwiceInOneInterval) {
  Log log;
  log.Renew(0, 1, 7).Renew(2.02, 1, 7).Renew(2.5, 1, 7);
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.violations, SizeIs(1));
  EXPECT_EQ(report.violations[0].kind, "double_renewal");
  EXPECT_EQ(report.violations[0].subject, "lease 0000000000000007");
  EXPECT_EQ(report.violations[0].line, 5);
  EXPECT_EQ(WireAuditExitCode(report), 1);
  EXPECT_THAT(FormatWireAuditText(report), HasSubstr("line 5: double_renewal: lease"));
}

TEST(WireAuditTest, NamesALateRenewal) {
  Log log;
  log.Renew(0, 1, 7).Renew(4.5, 1, 7).Renew(6.6, 1, 7).Renew(20, 1, 7);
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.violations, SizeIs(2));
  EXPECT_EQ(report.violations[0].kind, "late_renewal");
  EXPECT_EQ(report.violations[0].line, 3);
  EXPECT_EQ(report.violations[1].kind, "late_renewal");
  EXPECT_THAT(report.violations[1].detail, HasSubstr("after its TTL ran out"));
}

TEST(WireAuditTest, NamesARepeatedRevision) {
  // Re-created from 6 although 6 was delivered: etcd sends 6 again.
  Log log;
  log.Create(0, 1, 3, 5).Created(0.01, 1, 3, 9).Events(0.02, 1, 3, {5, 6});
  log.End(1, 1, kWatch, 14).Create(1.1, 2, 3, 6).Created(1.11, 2, 3, 9).Events(1.12, 2, 3, {6, 7});
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.violations, SizeIs(1));
  EXPECT_EQ(report.violations[0].kind, "repeated_revision");
  EXPECT_EQ(report.violations[0].subject, "watch 3");
  EXPECT_EQ(report.violations[0].line, 7);
}

TEST(WireAuditTest, NamesAGapAfterARecreate) {
  // Delivered up to 6, re-created from 9: 7 and 8 are never asked for.
  Log log;
  log.Create(0, 1, 3, 5).Created(0.01, 1, 3, 9).Events(0.02, 1, 3, {5, 6});
  log.End(1, 1, kWatch, 14).Create(1.1, 2, 3, 9);
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.violations, SizeIs(1));
  EXPECT_EQ(report.violations[0].kind, "revision_gap");
  EXPECT_EQ(report.violations[0].line, 5);
  EXPECT_THAT(report.violations[0].detail, HasSubstr("7..8"));
}

TEST(WireAuditTest, NamesEveryViolationOfOneLog) {
  Log log;
  log.Renew(0, 1, 7).Renew(0.5, 1, 7);
  log.Create(0, 2, 1, 5).Created(0.01, 2, 1, 9).Events(0.02, 2, 1, {5, 5});
  log.End(1, 2, kWatch, 14).Create(1.1, 4, 1, 8);
  EXPECT_THAT(Kinds(log.Audit()),
              ::testing::ElementsAre("double_renewal", "repeated_revision", "revision_gap"));
}

TEST(WireAuditTest, CancelsAndCompactionAreListed) {
  Log log;
  log.Create(0, 1, 1, 5).Created(0.01, 1, 1, 9);
  log.Add(0.02, 1, kWatch, WireDirection::kReceive,
          {{"watchId", "1"}, {"canceled", true}, {"compactRevision", "7"}});
  log.Create(0.03, 1, 2, 0).Created(0.04, 1, 2, 9);
  log.Add(0.05, 1, kWatch, WireDirection::kSend, {{"cancelRequest", {{"watchId", "2"}}}});
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.watches, SizeIs(2));
  ASSERT_THAT(report.watches[0].ends, SizeIs(1));
  EXPECT_EQ(report.watches[0].ends[0].by, "etcd");
  EXPECT_EQ(report.watches[0].ends[0].compact_revision, 7);
  ASSERT_THAT(report.watches[1].ends, SizeIs(1));
  EXPECT_EQ(report.watches[1].ends[0].by, "client");
  EXPECT_EQ(report.watches[1].creates[0].created_revision, 9);
}

TEST(WireAuditTest, ListsRetriedCalls) {
  const nlohmann::json range = {{"key", "YQ=="}};
  Log log;
  log.Add(0, 1, kRange, WireDirection::kSend, range).End(0.1, 1, kRange, 14);
  log.Add(0.2, 2, kRange, WireDirection::kSend, range).End(0.3, 2, kRange, 0);
  // The same request after a success is a new call, not a retry.
  log.Add(0.4, 3, kRange, WireDirection::kSend, range).End(0.5, 3, kRange, 0);
  const WireAuditReport report = log.Audit();
  ASSERT_THAT(report.retries, SizeIs(1));
  EXPECT_EQ(report.retries[0].failed_line, 1);
  EXPECT_EQ(report.retries[0].failed_code, 14);
  EXPECT_EQ(report.retries[0].retry_line, 3);
  EXPECT_THAT(report.violations, IsEmpty());
}

TEST(WireAuditTest, BadLinesAreNamedAndTheRestIsAudited) {
  Log log;
  log.Renew(0, 1, 7);
  log.Raw("garbage {");
  log.Raw(R"({"v":2,"time_us":1,"call":1})");
  log.Raw(R"({"v":1,"time_us":1,"call":1,"bytes":0,"endpoint":"e","dir":"send"})");
  log.Raw(R"([1,2])");
  log.Add(0.5, 9, "/etcdserverpb.Nope/Nothing", WireDirection::kSend, {{"a", 1}});
  log.Renew(2.1, 1, 7).Renew(2.3, 1, 7);
  log.Raw(R"({"v":1,"time_us":3000000,"pid":1,"endpoint":"127.0.0.1:2379","meth)");
  const WireAuditReport report = log.Audit(/*final_newline=*/false);
  ASSERT_THAT(report.problems, SizeIs(6));
  EXPECT_EQ(report.problems[0].line, 3);
  EXPECT_EQ(report.problems[0].kind, "not_json");
  EXPECT_EQ(report.problems[1].line, 4);
  EXPECT_EQ(report.problems[1].kind, "version");
  EXPECT_EQ(report.problems[2].line, 5);
  EXPECT_EQ(report.problems[2].kind, "not_record");
  EXPECT_THAT(report.problems[2].detail, HasSubstr("method"));
  EXPECT_EQ(report.problems[3].kind, "not_record");
  EXPECT_EQ(report.problems[4].line, 7);
  EXPECT_EQ(report.problems[4].kind, "unknown_method");
  EXPECT_EQ(report.problems[5].line, 12);
  EXPECT_EQ(report.problems[5].kind, "truncated");
  // The lines around them were audited: the double renewal on line 10 is named.
  ASSERT_THAT(report.violations, SizeIs(1));
  EXPECT_EQ(report.violations[0].line, 10);
  EXPECT_EQ(report.lines, 12);
  EXPECT_EQ(WireAuditExitCode(report), 1);
  EXPECT_THAT(report.methods, Contains(Field(&WireMethodSummary::known, false)));
}

TEST(WireAuditTest, OnlyBadInputExitsWithThree) {
  Log log;
  log.Renew(0, 1, 7).Raw("\x01\x02 not json");
  EXPECT_EQ(WireAuditExitCode(log.Audit()), 3);
  std::istringstream empty("");
  EXPECT_EQ(WireAuditExitCode(AuditWireLog(empty)), 0);
}

TEST(WireAuditTest, JsonReportParsesAndCarriesTheExitCode) {
  Log log;
  log.Renew(0, 1, 7).Renew(0.5, 1, 7);
  const nlohmann::json report = nlohmann::json::parse(FormatWireAuditJson(log.Audit()));
  EXPECT_EQ(report["exit_code"], 1);
  ASSERT_EQ(report["violations"].size(), 1u);
  EXPECT_EQ(report["violations"][0]["kind"], "double_renewal");
  EXPECT_EQ(report["leases"][0]["id"], "0000000000000007");
}

TEST(WireAuditTest, MissingFileIsAnError) {
  EXPECT_FALSE(AuditWireLogFile("/nonexistent-dir/wire.jsonl").ok());
}

}  // namespace
}  // namespace etcdgrpc::cli
