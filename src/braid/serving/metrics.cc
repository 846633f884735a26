#include "braid/serving/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace braid::serving {
namespace {

// Prometheus label values escape backslash, quote and newline.
std::string LabelText(const std::vector<std::string>& names, const LabelValues& values,
                      const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ',';
    absl::StrAppend(&out, names[i], "=\"",
                    absl::StrReplaceAll(values[i], {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}}),
                    "\"");
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ',';
    out += extra;
  }
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrCat(v);
}

void Header(const std::string& name, const std::string& help, const char* type, std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

Counter::Counter(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void Counter::Increment(const LabelValues& labels, double by) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[labels] += by;
}

double Counter::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void Counter::Render(std::string* out) const {
  Header(name_, help_, "counter", out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, value] : values_) {
    absl::StrAppend(out, name_, LabelText(labels_, labels), " ", Number(value), "\n");
  }
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> labels,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

void Histogram::Observe(const LabelValues& labels, double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[labels];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  ++s.buckets[bucket];
  s.sum += value;
  ++s.count;
}

void Histogram::Render(std::string* out) const {
  Header(name_, help_, "histogram", out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, s] : series_) {
    int64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      const double le = i < bounds_.size() ? bounds_[i] : INFINITY;
      absl::StrAppend(out, name_, "_bucket",
                      LabelText(labels_, labels, absl::StrCat("le=\"", Number(le), "\"")), " ",
                      cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_sum", LabelText(labels_, labels), " ", Number(s.sum), "\n");
    absl::StrAppend(out, name_, "_count", LabelText(labels_, labels), " ", s.count, "\n");
  }
}

std::vector<double> ExponentialBounds(double start, double factor, int count) {
  std::vector<double> bounds;
  for (double b = start; static_cast<int>(bounds.size()) < count; b *= factor) bounds.push_back(b);
  return bounds;
}

ServingMetrics::ServingMetrics()
    : request_count(":tensorflow:serving:request_count",
                    "Requests answered, by model, version, API, entry point and status.",
                    {"model_name", "version", "API", "entrypoint", "status"}),
      request_latency(":tensorflow:serving:request_latency",
                      "Microseconds from a request's arrival to its answer.",
                      {"model_name", "version", "API", "entrypoint"},
                      ExponentialBounds(10, 1.8, 33)),
      batch_size(":tensorflow:serving:batching_session:processed_batch_size",
                 "Rows per executed batch, before padding.", {"model_name", "version"},
                 ExponentialBounds(1, 2, 14)),
      queuing_latency(":tensorflow:serving:batching_session:queuing_latency",
                      "Microseconds the oldest request of a batch waited in its queue.",
                      {"model_name", "version"}, ExponentialBounds(10, 1.8, 33)),
      version_events(":braid:serving:version_events",
                     "Version loads, failed loads and unloads.",
                     {"model_name", "version", "event"}),
      load_latency(":braid:serving:load_latency_seconds",
                   "Seconds a version took to load and warm up.", {"model_name", "version"},
                   ExponentialBounds(0.01, 2, 16)) {}

std::string ServingMetrics::Render() const {
  std::string out;
  for (const MetricFamily* f : std::initializer_list<const MetricFamily*>{
           &request_count, &request_latency, &batch_size, &queuing_latency, &version_events,
           &load_latency}) {
    f->Render(&out);
  }
  return out;
}

ServingMetrics& Metrics() {
  static ServingMetrics* metrics = new ServingMetrics();
  return *metrics;
}

}  // namespace braid::serving
