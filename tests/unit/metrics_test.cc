// The metrics registry (text exposition, validation, concurrent recording) and its HTTP
// endpoint (serving, a taken port), with Debian's Prometheus parser reading what we write.
#include "etcdgrpc/metrics.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "etcdgrpc/metrics_http.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus_text.h"

namespace etcdgrpc {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, WritesThePrometheusTextFormat) {
  MetricsRegistry registry;
  auto ok = *registry.GetCounter("etcdgrpc_test_calls_total", "Calls.\nBy code \\ method.",
                                 {{"method", "/a.B/C"}, {"code", "OK"}});
  auto odd = *registry.GetCounter("etcdgrpc_test_calls_total", "ignored",
                                  {{"method", "say \"hi\"\n\\"}, {"code", "UNAVAILABLE"}});
  ok.Increment(3);
  odd.Increment();
  auto gauge = *registry.GetGauge("etcdgrpc_test_endpoints", "Endpoints.");
  gauge.Set(2.5);
  auto histogram =
      *registry.GetHistogram("etcdgrpc_test_seconds", "Latency.", {0.1, 1}, {{"method", "m"}});
  histogram.Observe(0.05);
  histogram.Observe(0.5);
  histogram.Observe(7);
  EXPECT_EQ(registry.Text(),
            "# HELP etcdgrpc_test_calls_total Calls.\\nBy code \\\\ method.\n"
            "# TYPE etcdgrpc_test_calls_total counter\n"
            "etcdgrpc_test_calls_total{method=\"/a.B/C\",code=\"OK\"} 3\n"
            "etcdgrpc_test_calls_total{method=\"say \\\"hi\\\"\\n\\\\\",code=\"UNAVAILABLE\"} 1\n"
            "# HELP etcdgrpc_test_endpoints Endpoints.\n"
            "# TYPE etcdgrpc_test_endpoints gauge\n"
            "etcdgrpc_test_endpoints 2.5\n"
            "# HELP etcdgrpc_test_seconds Latency.\n"
            "# TYPE etcdgrpc_test_seconds histogram\n"
            "etcdgrpc_test_seconds_bucket{method=\"m\",le=\"0.1\"} 1\n"
            "etcdgrpc_test_seconds_bucket{method=\"m\",le=\"1\"} 2\n"
            "etcdgrpc_test_seconds_bucket{method=\"m\",le=\"+Inf\"} 3\n"
            "etcdgrpc_test_seconds_sum{method=\"m\"} 7.55\n"
            "etcdgrpc_test_seconds_count{method=\"m\"} 3\n");
  EXPECT_EQ(histogram.Count(), 3u);
  // Prometheus' parser reads every line, and the escaped label value back as it was (printed
  // with Python's repr: the newline and backslash escaped again, the quote as it is).
  absl::StatusOr<std::map<std::string, double>> parsed =
      testing::ParsePrometheusText(registry.Text());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), 8u);  // 2 counters, 1 gauge, 3 buckets, sum, count
  EXPECT_EQ((*parsed)["etcdgrpc_test_calls_total{code=UNAVAILABLE,method=say \"hi\"\\n\\\\}"], 1);
  EXPECT_EQ((*parsed)["etcdgrpc_test_calls_total{code=OK,method=/a.B/C}"], 3);
  EXPECT_EQ((*parsed)["etcdgrpc_test_seconds_bucket{le=+Inf,method=m}"], 3);
  EXPECT_EQ((*parsed)["etcdgrpc_test_endpoints{}"], 2.5);
}

TEST(MetricsTest, TheSameSeriesTwiceIsOneSeries) {
  MetricsRegistry registry;
  auto a = *registry.GetCounter("x_total", "X.", {{"k", "v"}});
  auto b = *registry.GetCounter("x_total", "X.", {{"k", "v"}});
  a.Increment();
  b.Increment();
  EXPECT_EQ(a.Value(), 2u);
}

TEST(MetricsTest, RefusesWhatPrometheusWouldNotRead) {
  MetricsRegistry registry;
  EXPECT_FALSE(registry.GetCounter("", "h").ok());
  EXPECT_FALSE(registry.GetCounter("9lives", "h").ok());
  EXPECT_FALSE(registry.GetCounter("a-b", "h").ok());
  EXPECT_FALSE(registry.GetCounter("ok_total", "h", {{"__reserved", "v"}}).ok());
  EXPECT_FALSE(registry.GetCounter("ok_total", "h", {{"a:b", "v"}}).ok());
  EXPECT_FALSE(registry.GetCounter("ok_total", "h", {{"a", "1"}, {"a", "2"}}).ok());
  EXPECT_FALSE(registry.GetHistogram("h_seconds", "h", {1, 1}).ok());
  EXPECT_FALSE(registry.GetHistogram("h_seconds", "h", {1, 2}, {{"le", "x"}}).ok());
  ASSERT_TRUE(registry.GetCounter("ok_total", "h", {{"a", "1"}}).ok());
  // Another type, other label names, other buckets: INVALID_ARGUMENT.
  EXPECT_TRUE(absl::IsInvalidArgument(registry.GetGauge("ok_total", "h", {{"a", "1"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(registry.GetCounter("ok_total", "h", {{"b", "1"}}).status()));
  ASSERT_TRUE(registry.GetHistogram("h_seconds", "h", {1, 2}).ok());
  EXPECT_FALSE(registry.GetHistogram("h_seconds", "h", {1, 3}).ok());
}

TEST(MetricsTest, OffHandlesRecordNothing) {
  Counter counter;
  Gauge gauge;
  Histogram histogram;
  counter.Increment();
  gauge.Set(3);
  histogram.Observe(1);
  EXPECT_FALSE(counter);
  EXPECT_EQ(counter.Value(), 0u);
  EXPECT_EQ(gauge.Value(), 0);
  EXPECT_EQ(histogram.Count(), 0u);
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  MetricsRegistry registry;
  auto counter = *registry.GetCounter("c_total", "C.");
  auto histogram = *registry.GetHistogram("h_seconds", "H.", LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.Increment();
        histogram.Observe(0.001);
      }
    });
  }
  // Scrapes meanwhile must not disturb the recorders.
  for (int i = 0; i < 20; ++i) (void)registry.Text();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(), 40000u);
  EXPECT_EQ(histogram.Count(), 40000u);
  EXPECT_NEAR(histogram.Sum(), 40.0, 1e-6);
}

TEST(MetricsHttpTest, ServesTheTextOnLoopback) {
  auto registry = std::make_shared<MetricsRegistry>();
  registry->GetCounter("served_total", "S.")->Increment(7);
  auto server = MetricsHttpServer::Start(registry);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->url(), HasSubstr("http://127.0.0.1:"));
  httplib::Client client("127.0.0.1", (*server)->port());
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), MetricsRegistry::kTextContentType);
  EXPECT_THAT(response->body, HasSubstr("served_total 7\n"));
  EXPECT_EQ(client.Get("/other")->status, 404);
}

TEST(MetricsHttpTest, ATakenPortIsAClearErrorAndTheHolderKeepsServing) {
  auto registry = std::make_shared<MetricsRegistry>();
  auto first = MetricsHttpServer::Start(registry);
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = (*first)->port();
  auto second = MetricsHttpServer::Start(registry, {.port = port});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(second.status().message(),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
  // A port some other program holds (a plain listening socket).
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto third = MetricsHttpServer::Start(registry, {.port = ntohs(address.sin_port)});
  close(fd);
  EXPECT_TRUE(absl::IsUnavailable(third.status())) << third.status();
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(MetricsHttpTest, RefusesBadOptions) {
  auto registry = std::make_shared<MetricsRegistry>();
  EXPECT_FALSE(MetricsHttpServer::Start(nullptr).ok());
  EXPECT_FALSE(MetricsHttpServer::Start(registry, {.port = 70000}).ok());
  EXPECT_FALSE(MetricsHttpServer::Start(registry, {.path = "metrics"}).ok());
}

}  // namespace
}  // namespace etcdgrpc
