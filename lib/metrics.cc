// The metrics registry (etcdgrpc/metrics.h): families, their series, and the Prometheus text
// exposition.
#include "etcdgrpc/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/mutex.h"

namespace etcdgrpc {
namespace metrics_internal {

struct HistogramCell {
  explicit HistogramCell(const std::vector<double>& bounds)
      : bounds(bounds), buckets(bounds.size() + 1) {}
  const std::vector<double> bounds;
  // Per bucket, not cumulative (one add per observation); the last is +Inf. A deque: atomics
  // cannot be moved, and this sizes once.
  std::deque<std::atomic<uint64_t>> buckets;
  std::atomic<double> sum{0};
};

}  // namespace metrics_internal

namespace {

using metrics_internal::HistogramCell;

enum class Type { kCounter, kGauge, kHistogram };

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  return IsMetricName(name) && name.find(':') == std::string_view::npos && !name.starts_with("__");
}

// Prometheus' numbers: shortest round-trip form, and +Inf, -Inf, NaN.
void AppendNumber(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
  } else {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out->append(buffer, result.ptr);
  }
}

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"}` plus an optional extra label (a histogram's `le`); nothing when empty.
void AppendLabels(std::string* out, const MetricLabels& labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) out->push_back(',');
    first = false;
    out->append(name);
    out->append("=\"");
    AppendEscaped(out, value, /*quote=*/true);
    out->push_back('"');
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out->push_back('}');
}

struct Series {
  MetricLabels labels;
  std::atomic<uint64_t> counter{0};
  std::atomic<double> gauge{0};
  std::unique_ptr<HistogramCell> histogram;
};

struct Family {
  Type type;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  // Stable addresses: handles point into them.
  std::deque<Series> series;
  std::map<std::vector<std::string>, Series*> by_values;
};

}  // namespace

struct MetricsRegistry::Impl {
  internal::Mutex mu;
  std::map<std::string, Family, std::less<>> families ABSL_GUARDED_BY(mu);

  absl::StatusOr<Series*> Find(std::string_view name, std::string_view help, Type type,
                               const std::vector<double>& buckets, const MetricLabels& labels);
};

absl::StatusOr<Series*> MetricsRegistry::Impl::Find(std::string_view name, std::string_view help,
                                                    Type type, const std::vector<double>& buckets,
                                                    const MetricLabels& labels) {
  // Debian's Abseil has its own string_view.
  const absl::string_view aname(name.data(), name.size());
  if (!IsMetricName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: \"", aname, "\" is not a metric name"));
  }
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (const auto& [label, value] : labels) {
    if (!IsLabelName(label) || (type == Type::kHistogram && label == "le")) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics: \"", label, "\" is not a label name (metric ", aname, ")"));
    }
    if (std::find(names.begin(), names.end(), label) != names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics: label \"", label, "\" given twice (metric ", aname, ")"));
    }
    names.push_back(label);
    values.push_back(value);
  }
  if (type == Type::kHistogram) {
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        return absl::InvalidArgumentError(absl::StrCat("metrics: the buckets of ", aname,
                                                       " must be finite and strictly increasing"));
      }
    }
  }
  internal::MutexLock lock(&mu);
  auto it = families.find(name);
  if (it == families.end()) {
    it = families.emplace(std::string(name), Family{}).first;
    Family& family = it->second;
    family.type = type;
    family.help = std::string(help);
    family.label_names = names;
    family.buckets = buckets;
  }
  Family& family = it->second;
  if (family.type != type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics: ", aname, " is a ", TypeName(family.type), ", not a ", TypeName(type)));
  }
  if (family.label_names != names) {
    return absl::InvalidArgumentError(absl::StrCat("metrics: ", aname, " has the labels (",
                                                   absl::StrJoin(family.label_names, ","),
                                                   "), not (", absl::StrJoin(names, ","), ")"));
  }
  if (type == Type::kHistogram && family.buckets != buckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: ", aname, " was created with other buckets"));
  }
  auto found = family.by_values.find(values);
  if (found != family.by_values.end()) return found->second;
  Series& series = family.series.emplace_back();
  series.labels = labels;
  if (type == Type::kHistogram) series.histogram = std::make_unique<HistogramCell>(buckets);
  family.by_values.emplace(std::move(values), &series);
  return &series;
}

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

absl::StatusOr<Counter> MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                                    const MetricLabels& labels) {
  absl::StatusOr<Series*> series = impl_->Find(name, help, Type::kCounter, {}, labels);
  if (!series.ok()) return series.status();
  return Counter(&(*series)->counter);
}

absl::StatusOr<Gauge> MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                                const MetricLabels& labels) {
  absl::StatusOr<Series*> series = impl_->Find(name, help, Type::kGauge, {}, labels);
  if (!series.ok()) return series.status();
  return Gauge(&(*series)->gauge);
}

absl::StatusOr<Histogram> MetricsRegistry::GetHistogram(std::string_view name,
                                                        std::string_view help,
                                                        const std::vector<double>& buckets,
                                                        const MetricLabels& labels) {
  absl::StatusOr<Series*> series = impl_->Find(name, help, Type::kHistogram, buckets, labels);
  if (!series.ok()) return series.status();
  return Histogram((*series)->histogram.get());
}

std::string MetricsRegistry::Text() const {
  std::string out;
  internal::MutexLock lock(&impl_->mu);
  for (const auto& [name, family] : impl_->families) {
    out.append("# HELP ").append(name).push_back(' ');
    AppendEscaped(&out, family.help, /*quote=*/false);
    out.append("\n# TYPE ").append(name).push_back(' ');
    out.append(TypeName(family.type)).push_back('\n');
    for (const Series& series : family.series) {
      switch (family.type) {
        case Type::kCounter:
          out.append(name);
          AppendLabels(&out, series.labels);
          absl::StrAppend(&out, " ", series.counter.load(std::memory_order_relaxed), "\n");
          break;
        case Type::kGauge:
          out.append(name);
          AppendLabels(&out, series.labels);
          out.push_back(' ');
          AppendNumber(&out, series.gauge.load(std::memory_order_relaxed));
          out.push_back('\n');
          break;
        case Type::kHistogram: {
          const HistogramCell& cell = *series.histogram;
          uint64_t cumulative = 0;
          for (size_t i = 0; i < cell.buckets.size(); ++i) {
            cumulative += cell.buckets[i].load(std::memory_order_relaxed);
            std::string bound;
            if (i < cell.bounds.size()) {
              AppendNumber(&bound, cell.bounds[i]);
            } else {
              bound = "+Inf";
            }
            out.append(name).append("_bucket");
            AppendLabels(&out, series.labels, "le", bound);
            absl::StrAppend(&out, " ", cumulative, "\n");
          }
          out.append(name).append("_sum");
          AppendLabels(&out, series.labels);
          out.push_back(' ');
          AppendNumber(&out, cell.sum.load(std::memory_order_relaxed));
          out.push_back('\n');
          // The count is the +Inf bucket's, so the two always agree in one scrape.
          out.append(name).append("_count");
          AppendLabels(&out, series.labels);
          absl::StrAppend(&out, " ", cumulative, "\n");
          break;
        }
      }
    }
  }
  return out;
}

void Histogram::Record(HistogramCell& cell, double value) noexcept {
  // Few buckets: a linear search reads one or two cache lines.
  size_t i = 0;
  while (i < cell.bounds.size() && value > cell.bounds[i]) ++i;
  cell.buckets[i].fetch_add(1, std::memory_order_relaxed);
  cell.sum.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::Count() const noexcept {
  if (cell_ == nullptr) return 0;
  uint64_t count = 0;
  for (const auto& bucket : cell_->buckets) count += bucket.load(std::memory_order_relaxed);
  return count;
}

double Histogram::Sum() const noexcept {
  return cell_ == nullptr ? 0 : cell_->sum.load(std::memory_order_relaxed);
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace etcdgrpc
