// The client's metric families and the per-method lookup of unary call series.
#include "lib/internal/client_metrics.h"

#include <utility>

#include "absl/status/status.h"

namespace etcdgrpc::internal {

std::string_view StreamBreakName(StreamBreak reason) {
  switch (reason) {
    case StreamBreak::kStall:
      return "stall";
    case StreamBreak::kUnavailable:
      return "unavailable";
    case StreamBreak::kServerEnded:
      return "server_ended";
    case StreamBreak::kError:
    case StreamBreak::kCount:
      break;
  }
  return "error";
}

std::unique_ptr<ClientMetrics> ClientMetrics::Create(std::shared_ptr<MetricsRegistry> registry,
                                                     const std::vector<std::string>& endpoints) {
  if (registry == nullptr) return nullptr;
  return std::make_unique<ClientMetrics>(std::move(registry), endpoints);
}

ClientMetrics::ClientMetrics(std::shared_ptr<MetricsRegistry> registry,
                             const std::vector<std::string>& endpoints)
    : registry_(std::move(registry)) {
  MetricsRegistry& r = *registry_;
  // Our own names are valid: value_or only guards against a user's family of the same name
  // and another type (that series then records nothing).
  watch_events =
      r.GetCounter("etcdgrpc_client_watch_events_total", "Watch events delivered to watches.")
          .value_or(Counter());
  watch_event_bytes = r.GetCounter("etcdgrpc_client_watch_event_bytes_total",
                                   "Bytes of keys and values in the watch events delivered.")
                          .value_or(Counter());
  watch_responses = r.GetCounter("etcdgrpc_client_watch_responses_total",
                                 "Messages received on the watch stream.")
                        .value_or(Counter());
  keepalive_rtt =
      r.GetHistogram("etcdgrpc_client_keepalive_rtt_seconds",
                     "Time from sending a lease renewal to its answer.", LatencyBuckets())
          .value_or(Histogram());
  renewals = r.GetCounter("etcdgrpc_client_lease_renewals_total",
                          "Kept-lease renewals answered with a TTL.")
                 .value_or(Counter());
  const char* const reasons[] = {"not_found", "deadline_passed", "revoked", "client_closed"};
  for (size_t i = 0; i < leases_lost.size(); ++i) {
    leases_lost[i] = r.GetCounter("etcdgrpc_client_leases_lost_total",
                                  "Kept leases reported lost, by reason.", {{"reason", reasons[i]}})
                         .value_or(Counter());
  }
  for (const std::string& endpoint : endpoints) {
    endpoint_suspect.push_back(
        r.GetGauge("etcdgrpc_client_endpoint_suspect",
                   "1 from a failure of the endpoint until it answers again, else 0.",
                   {{"endpoint", endpoint}})
            .value_or(Gauge()));
    endpoint_failures.push_back(
        r.GetCounter("etcdgrpc_client_endpoint_failures_total",
                     "Failures of the endpoint (unavailable, stalled, past a deadline).",
                     {{"endpoint", endpoint}})
            .value_or(Counter()));
  }
}

StreamMetrics ClientMetrics::ForStream(std::string_view method) {
  MetricsRegistry& r = *registry_;
  StreamMetrics out;
  const std::string name(method);
  out.opens = r.GetCounter("etcdgrpc_client_stream_opens_total",
                           "Streams opened (the first and every reconnect).", {{"method", name}})
                  .value_or(Counter());
  for (size_t i = 0; i < out.reconnects.size(); ++i) {
    const std::string reason(StreamBreakName(static_cast<StreamBreak>(i)));
    out.reconnects[i] = r.GetCounter("etcdgrpc_client_stream_reconnects_total",
                                     "Streams broken and opened again, by why they broke.",
                                     {{"method", name}, {"reason", reason}})
                            .value_or(Counter());
    out.failovers[i] = r.GetCounter("etcdgrpc_client_stream_failovers_total",
                                    "Streams reopened on another endpoint, by why they broke.",
                                    {{"method", name}, {"reason", reason}})
                           .value_or(Counter());
  }
  return out;
}

ClientMetrics::Method& ClientMetrics::MethodFor(std::string_view name) {
  const size_t published = method_count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < published; ++i) {
    Method* method = methods_[i].load(std::memory_order_relaxed);
    if (method->name == name) return *method;
  }
  MutexLock lock(&mu_);
  const size_t count = method_count_.load(std::memory_order_relaxed);
  for (size_t i = published; i < count; ++i) {
    Method* method = methods_[i].load(std::memory_order_relaxed);
    if (method->name == name) return *method;
  }
  // More methods than etcd has: record nothing rather than grow without bound.
  if (count == kMaxMethods) return overflow_;
  auto method = std::make_unique<Method>();
  method->name = std::string(name);
  method->seconds = registry_
                        ->GetHistogram("etcdgrpc_client_call_duration_seconds",
                                       "Unary calls' latency, all attempts together.",
                                       LatencyBuckets(), {{"method", method->name}})
                        .value_or(Histogram());
  methods_[count].store(method.get(), std::memory_order_relaxed);
  owned_.push_back(std::move(method));
  method_count_.store(count + 1, std::memory_order_release);
  return *owned_.back();
}

Counter& ClientMetrics::CodeFor(Method& method, int code) {
  const size_t index = code >= 0 && static_cast<size_t>(code) < kCodes ? code : 2;  // UNKNOWN
  if (method.ready[index].load(std::memory_order_acquire)) return method.calls[index];
  MutexLock lock(&mu_);
  if (!method.ready[index].load(std::memory_order_relaxed) && &method != &overflow_) {
    method.calls[index] =
        registry_
            ->GetCounter("etcdgrpc_client_calls_total",
                         "Unary calls finished, by method and final gRPC code.",
                         {{"method", method.name},
                          {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(index))}})
            .value_or(Counter());
    method.ready[index].store(true, std::memory_order_release);
  }
  return method.calls[index];
}

void ClientMetrics::CallDone(std::string_view method_name, int code, double seconds) {
  Method& method = MethodFor(method_name);
  CodeFor(method, code).Increment();
  method.seconds.Observe(seconds);
}

}  // namespace etcdgrpc::internal
