// A client with metrics on, against a real etcd: its calls, watch, kept lease and endpoint are
// scraped over HTTP (MetricsHttpServer) and every line read by Prometheus' own parser.
#include <httplib.h>

#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/metrics_http.h"
#include "gtest/gtest.h"
#include "prometheus_text.h"
#include "recorders.h"
#include "registry_process.h"
#include "shared_etcd.h"
#include "test_client.h"
#include "wait_until.h"

#ifndef ETCDGRPC_GREETER_SERVER
#error "needs ETCDGRPC_GREETER_SERVER, the demo greeter server's path"
#endif

namespace etcdgrpc::testing {
namespace {

std::map<std::string, double> Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto response = http.Get("/metrics");
  EXPECT_TRUE(response && response->status == 200);
  if (!response) return {};
  absl::StatusOr<std::map<std::string, double>> samples = ParsePrometheusText(response->body);
  EXPECT_TRUE(samples.ok()) << samples.status() << "\n" << response->body;
  return samples.ok() ? *samples : std::map<std::string, double>{};
}

TEST(MetricsScrapeTest, ClientCallsWatchLeaseAndEndpointAreScrapedAndParse) {
  LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  auto metrics = std::make_shared<MetricsRegistry>();
  ClientOptions options;
  options.endpoints = etcd->ClientEndpoints();
  options.metrics = metrics;
  std::unique_ptr<Client> client = ConnectWith(options);
  ASSERT_NE(client, nullptr);
  const std::string prefix = TestPrefix();

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Put(prefix + "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(client->Get(prefix + "k0").ok());
  WatchRecorder watch;
  auto handle = client->Watch(WatchRequest{.range = KeyRange::Prefix(prefix + "w/")}, &watch);
  ASSERT_TRUE(handle.ok()) << handle.status();
  // The watch is created before the puts it must see: wait for its stream's first answer.
  ASSERT_TRUE(client->RequestProgress().ok());
  ASSERT_TRUE(watch.WaitForProgress());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client->Put(prefix + "w/" + std::to_string(i), "1234").ok());
  ASSERT_TRUE(watch.WaitForEvents(3));
  auto lease = client->Grant(2);
  ASSERT_TRUE(lease.ok()) << lease.status();
  LeaseRecorder renewals;
  auto kept = client->Keep(lease->id, &renewals,
                           {.ttl = absl::Seconds(lease->ttl), .granted_at = lease->granted_at});
  ASSERT_TRUE(kept.ok()) << kept.status();
  ASSERT_TRUE(renewals.WaitForRenewals(1, absl::Seconds(10)));
  // A lease that does not exist: the call's code is counted as etcd answered it.
  EXPECT_FALSE(client->Revoke(0x7777).ok());

  auto server = MetricsHttpServer::Start(metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  std::map<std::string, double> s = Scrape((*server)->port());
  const std::string put = "method=/etcdserverpb.KV/Put";
  EXPECT_EQ(s["etcdgrpc_client_calls_total{code=OK," + put + "}"], 8);
  EXPECT_EQ(s["etcdgrpc_client_call_duration_seconds_count{" + put + "}"], 8);
  EXPECT_EQ(s["etcdgrpc_client_call_duration_seconds_bucket{le=+Inf," + put + "}"], 8);
  EXPECT_GT(s["etcdgrpc_client_call_duration_seconds_sum{" + put + "}"], 0);
  EXPECT_EQ(s["etcdgrpc_client_calls_total{code=OK,method=/etcdserverpb.KV/Range}"], 1);
  EXPECT_EQ(s["etcdgrpc_client_calls_total{code=OK,method=/etcdserverpb.Lease/LeaseGrant}"], 1);
  EXPECT_EQ(s["etcdgrpc_client_calls_total{code=NOT_FOUND,method=/etcdserverpb.Lease/LeaseRevoke}"],
            1);
  EXPECT_EQ(s["etcdgrpc_client_watch_events_total{}"], 3);
  EXPECT_EQ(s["etcdgrpc_client_watch_event_bytes_total{}"], 3 * (prefix.size() + 3 + 4));
  EXPECT_EQ(s["etcdgrpc_client_stream_opens_total{method=/etcdserverpb.Watch/Watch}"], 1);
  EXPECT_EQ(s["etcdgrpc_client_stream_opens_total{method=/etcdserverpb.Lease/LeaseKeepAlive}"], 1);
  EXPECT_EQ(
      s["etcdgrpc_client_stream_reconnects_total{method=/etcdserverpb.Watch/Watch,reason=stall}"],
      0);
  EXPECT_GE(s["etcdgrpc_client_lease_renewals_total{}"], 1);
  EXPECT_GE(s["etcdgrpc_client_keepalive_rtt_seconds_count{}"], 1);
  EXPECT_EQ(s["etcdgrpc_client_leases_lost_total{reason=not_found}"], 0);
  for (const std::string& endpoint : etcd->ClientEndpoints()) {
    EXPECT_EQ(s.count("etcdgrpc_client_endpoint_suspect{endpoint=" + endpoint + "}"), 1u);
    EXPECT_EQ(s["etcdgrpc_client_endpoint_suspect{endpoint=" + endpoint + "}"], 0);
  }

  // The kept lease revoked through the client: lost, reason revoked.
  ASSERT_TRUE(client->Revoke(lease->id).ok());
  ASSERT_TRUE(renewals.WaitForLoss(absl::Seconds(10)));
  s = Scrape((*server)->port());
  EXPECT_EQ(s["etcdgrpc_client_leases_lost_total{reason=revoked}"], 1);
}

TEST(MetricsScrapeTest, ADeadEndpointIsSuspect) {
  auto metrics = std::make_shared<MetricsRegistry>();
  ClientOptions options;
  const std::string dead = ClosedEndpoint();
  options.endpoints = {dead};
  options.dial_timeout = absl::ZeroDuration();
  options.request_timeout = absl::Milliseconds(300);
  options.metrics = metrics;
  std::unique_ptr<Client> client = ConnectWith(options);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->Get("/x").ok());
  const std::string text = metrics->Text();
  absl::StatusOr<std::map<std::string, double>> s = ParsePrometheusText(text);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)["etcdgrpc_client_endpoint_suspect{endpoint=" + dead + "}"], 1) << text;
  EXPECT_GE((*s)["etcdgrpc_client_endpoint_failures_total{endpoint=" + dead + "}"], 1) << text;
  EXPECT_EQ(
      (*s)["etcdgrpc_client_calls_total{code=DEADLINE_EXCEEDED,method=/etcdserverpb.KV/Range}"], 1)
      << text;
}

// The demo's greeter server (another process, with a client and a registrar)
// serves its metrics: every line parses and the registration is counted.
TEST(MetricsScrapeTest, TheGreeterServerServesItsMetrics) {
  LocalEtcd* etcd = SharedEtcd();
  ASSERT_NE(etcd, nullptr);
  registry::testing::ChildProcess server({ETCDGRPC_GREETER_SERVER,
                                          "--endpoints=" + etcd->EndpointsFlag(), "--id=metrics-1",
                                          "--metrics_port=0", "--ttl=2s"});
  int port = 0;
  bool serving = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((port == 0 || !serving) && absl::Now() < deadline) {
    std::optional<std::string> line = server.ReadLine(absl::Seconds(1));
    if (!line.has_value()) continue;
    const std::string kMetricsOn = "  [metrics-1] metrics on http://127.0.0.1:";
    if (absl::StartsWith(*line, kMetricsOn)) {
      ASSERT_TRUE(
          absl::SimpleAtoi(absl::StripSuffix(line->substr(kMetricsOn.size()), "/metrics"), &port))
          << *line;
    }
    serving = serving || absl::StrContains(*line, " serving on ");
  }
  ASSERT_GT(port, 0) << server.out() << server.err();
  ASSERT_TRUE(serving) << server.out() << server.err();
  std::map<std::string, double> samples = Scrape(port);
  EXPECT_EQ(samples["etcdgrpc_registry_registrations_total{service=greeter}"], 1);
  EXPECT_EQ(samples["etcdgrpc_registry_registered{service=greeter}"], 1);
  EXPECT_GE(samples["etcdgrpc_client_calls_total{code=OK,method=/etcdserverpb.Lease/LeaseGrant}"],
            1);
  // Its lease is kept: renewals show up on a later scrape (TTL 2 s: one within about 1 s).
  EXPECT_TRUE(WaitUntil([&] { return Scrape(port)["etcdgrpc_client_lease_renewals_total{}"] >= 1; },
                        absl::Seconds(10)));
  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(absl::Seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << server.out() << server.err();
}

}  // namespace
}  // namespace etcdgrpc::testing
