// The client's metric handles (docs/metrics.md), resolved once per client from
// ClientOptions::metrics; the Connection owns them and every part of the client reaches them
// through it. Null when metrics are off, so each use is one pointer test.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "etcdgrpc/metrics.h"

namespace etcdgrpc::internal {

// Why a stream broke (the `reason` label of reconnects and failovers).
enum class StreamBreak { kStall, kUnavailable, kServerEnded, kError, kCount };
std::string_view StreamBreakName(StreamBreak reason);

// Per stream method: opens, and reconnects and failovers by the reason of the break before.
struct StreamMetrics {
  Counter opens;
  std::array<Counter, static_cast<size_t>(StreamBreak::kCount)> reconnects;
  std::array<Counter, static_cast<size_t>(StreamBreak::kCount)> failovers;
};

class ClientMetrics {
 public:
  // Null when `registry` is (metrics off).
  static std::unique_ptr<ClientMetrics> Create(std::shared_ptr<MetricsRegistry> registry,
                                               const std::vector<std::string>& endpoints);
  explicit ClientMetrics(std::shared_ptr<MetricsRegistry> registry,
                         const std::vector<std::string>& endpoints);

  // A finished unary call (all its attempts): counted by method and final code, its latency
  // observed by method. Lock-free once the method and code were seen.
  void CallDone(std::string_view method, int code, double seconds);

  StreamMetrics ForStream(std::string_view method);

  Counter watch_events;
  Counter watch_event_bytes;
  Counter watch_responses;
  Histogram keepalive_rtt;
  Counter renewals;
  // By LeaseLossReason.
  std::array<Counter, 4> leases_lost;
  // Per endpoint (the Connection's indices).
  std::vector<Gauge> endpoint_suspect;
  std::vector<Counter> endpoint_failures;

 private:
  static constexpr size_t kCodes = 17;
  struct Method {
    std::string name;
    Histogram seconds;
    std::array<Counter, kCodes> calls;
    std::array<std::atomic<bool>, kCodes> ready{};
  };
  Method& MethodFor(std::string_view name);
  Counter& CodeFor(Method& method, int code);

  const std::shared_ptr<MetricsRegistry> registry_;
  // Append-only: readers scan the published prefix without a lock.
  static constexpr size_t kMaxMethods = 64;
  std::array<std::atomic<Method*>, kMaxMethods> methods_{};
  std::atomic<size_t> method_count_{0};
  Mutex mu_;
  std::vector<std::unique_ptr<Method>> owned_ ABSL_GUARDED_BY(mu_);
  Method overflow_;
};

}  // namespace etcdgrpc::internal
