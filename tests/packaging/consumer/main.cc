// Uses the installed headers and the four libraries: a key range, a
// connection attempt that must fail cleanly on a closed port, a registry
// record encoded and decoded, a resolver endpoint diff, and a concurrency
// canceller.
#include <cstdio>
#include <memory>

#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"
#include "etcdgrpc/metrics.h"
#include "etcdgrpc/metrics_http.h"
#include "etcdgrpc/registry/codec.h"
#include "etcdgrpc/registry/service_instance.h"
#include "etcdgrpc/resolver/endpoint.h"

int main() {
  etcdgrpc::KeyRange range = etcdgrpc::KeyRange::Prefix("/services/");
  if (range.range_end() != "/services0") return 1;

  etcdgrpc::ClientOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.dial_timeout = absl::Milliseconds(200);
  auto client = etcdgrpc::Client::Connect(options);
  if (client.ok() || !absl::IsUnavailable(client.status())) {
    std::printf("unexpected: %s\n", client.status().ToString().c_str());
    return 1;
  }

  etcdgrpc::registry::ServiceInstance instance;
  instance.id = "a";
  instance.service = "greeter";
  instance.address = "127.0.0.1:50051";
  auto codec = etcdgrpc::registry::NativeCodec();
  auto value = codec->Encode(instance);
  if (!value.ok()) {
    std::printf("encode: %s\n", value.status().ToString().c_str());
    return 1;
  }
  auto decoded = codec->Decode("greeter", "/services/greeter/a", *value);
  if (!decoded.ok() || decoded->address != instance.address) {
    std::printf("decode: %s\n", decoded.status().ToString().c_str());
    return 1;
  }

  etcdgrpc::resolver::EndpointSet before, after;
  auto endpoint = std::make_shared<etcdgrpc::resolver::Endpoint>();
  endpoint->key = "/services/greeter/a";
  endpoint->instance = *decoded;
  after.endpoints.push_back(endpoint);
  if (etcdgrpc::resolver::Diff(before, after).added.size() != 1) return 1;

  etcdgrpc::concurrency::Canceller canceller;
  etcdgrpc::concurrency::WaitOptions wait{.canceller = &canceller};
  canceller.Cancel();
  if (!wait.canceller->cancelled()) return 1;

  // Metrics, written out and served over HTTP (etcdgrpc::metrics_http).
  auto metrics = std::make_shared<etcdgrpc::MetricsRegistry>();
  auto counter = metrics->GetCounter("consumer_runs_total", "Runs.");
  if (!counter.ok()) return 1;
  counter->Increment();
  if (metrics->Text().find("consumer_runs_total 1\n") == std::string::npos) return 1;
  auto http = etcdgrpc::MetricsHttpServer::Start(metrics);
  if (!http.ok() || (*http)->port() <= 0) return 1;

  std::printf("consumer ok: %s\n", client.status().ToString().c_str());
  return 0;
}
