// Metrics: a registry of counters, gauges and fixed-bucket histograms with label sets, written
// out in the Prometheus text format (docs/metrics.md lists what the libraries record).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdgrpc/export.h"

namespace etcdgrpc {

// Label names and values of one series, in the order the family declared its names.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

namespace metrics_internal {
struct HistogramCell;
}  // namespace metrics_internal

// A handle on one counter series. Resolved once (MetricsRegistry::GetCounter), then each
// Increment is one relaxed atomic add. A default-constructed handle records nothing: what the
// libraries hold when metrics are off (one pointer test per use).
class ETCDGRPC_EXPORT Counter {
 public:
  Counter() = default;
  void Increment(uint64_t by = 1) const noexcept {
    if (cell_ != nullptr) cell_->fetch_add(by, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t Value() const noexcept {
    return cell_ == nullptr ? 0 : cell_->load(std::memory_order_relaxed);
  }
  explicit operator bool() const noexcept { return cell_ != nullptr; }

 private:
  friend class MetricsRegistry;
  explicit Counter(std::atomic<uint64_t>* cell) : cell_(cell) {}
  std::atomic<uint64_t>* cell_ = nullptr;
};

// A handle on one gauge series: a value that goes up and down.
class ETCDGRPC_EXPORT Gauge {
 public:
  Gauge() = default;
  void Set(double value) const noexcept {
    if (cell_ != nullptr) cell_->store(value, std::memory_order_relaxed);
  }
  void Add(double delta) const noexcept {
    if (cell_ != nullptr) cell_->fetch_add(delta, std::memory_order_relaxed);
  }
  [[nodiscard]] double Value() const noexcept {
    return cell_ == nullptr ? 0 : cell_->load(std::memory_order_relaxed);
  }
  explicit operator bool() const noexcept { return cell_ != nullptr; }

 private:
  friend class MetricsRegistry;
  explicit Gauge(std::atomic<double>* cell) : cell_(cell) {}
  std::atomic<double>* cell_ = nullptr;
};

// A handle on one histogram series with fixed buckets: Observe finds the bucket and makes two
// relaxed atomic adds (bucket and sum); no lock.
class ETCDGRPC_EXPORT Histogram {
 public:
  Histogram() = default;
  void Observe(double value) const noexcept {
    if (cell_ != nullptr) Record(*cell_, value);
  }
  // Observations so far and their sum (for tests and users' own checks).
  [[nodiscard]] uint64_t Count() const noexcept;
  [[nodiscard]] double Sum() const noexcept;
  explicit operator bool() const noexcept { return cell_ != nullptr; }

 private:
  friend class MetricsRegistry;
  explicit Histogram(metrics_internal::HistogramCell* cell) : cell_(cell) {}
  static void Record(metrics_internal::HistogramCell& cell, double value) noexcept;
  metrics_internal::HistogramCell* cell_ = nullptr;
};

// Upper bounds (seconds) for call latencies: 100 µs to 10 s.
ETCDGRPC_EXPORT std::vector<double> LatencyBuckets();

// The metrics of a process (or of the clients that share it). Thread-safe. Getting a series
// takes the registry's lock (once per series: keep the handle); recording never does. Handles
// stay valid as long as the registry lives: give it to ClientOptions::metrics (and the
// registrar's and resolver's options) as a shared_ptr.
//
// Names follow Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]*; label names [a-zA-Z_][a-zA-Z0-9_]*,
// not starting with "__"); every series of a family has the same label names in the same order
// and the family one type (and, for histograms, one set of buckets): anything else is
// INVALID_ARGUMENT. Asking again for a series that exists returns the same series.
class ETCDGRPC_EXPORT MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  [[nodiscard]] absl::StatusOr<Counter> GetCounter(std::string_view name, std::string_view help,
                                                   const MetricLabels& labels = {});
  [[nodiscard]] absl::StatusOr<Gauge> GetGauge(std::string_view name, std::string_view help,
                                               const MetricLabels& labels = {});
  // `buckets`: strictly increasing finite upper bounds; "+Inf" is added.
  [[nodiscard]] absl::StatusOr<Histogram> GetHistogram(std::string_view name, std::string_view help,
                                                       const std::vector<double>& buckets,
                                                       const MetricLabels& labels = {});

  // Every family in the Prometheus text exposition format 0.0.4 (families by name, series in
  // the order they were created): what GET /metrics serves, for users who run their own
  // exporter. The content type is kTextContentType.
  [[nodiscard]] std::string Text() const;
  static constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdgrpc
