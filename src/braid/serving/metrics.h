// The model server's metrics in Prometheus' text exposition format, served
// at /monitoring/prometheus/metrics on the REST port. Names follow TF
// Serving's where it has the same metric (":tensorflow:serving:..."), so
// dashboards built for it keep working; braid's own are ":braid:serving:...".
//
// A family is a metric name with a fixed list of label names; each distinct
// list of label values is one series. Thread-safe; a mutex per family is
// cheap next to a request.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace braid::serving {

using LabelValues = std::vector<std::string>;

class MetricFamily {
 public:
  virtual ~MetricFamily() = default;
  virtual void Render(std::string* out) const = 0;
};

class Counter : public MetricFamily {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> labels);
  void Increment(const LabelValues& labels, double by = 1);
  double Value(const LabelValues& labels) const;  // 0 for a series never incremented
  void Render(std::string* out) const override;

 private:
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;
};

class Histogram : public MetricFamily {
 public:
  // `bounds`: increasing upper bounds of the buckets (+Inf is implied).
  Histogram(std::string name, std::string help, std::vector<std::string> labels,
            std::vector<double> bounds);
  void Observe(const LabelValues& labels, double value);
  void Render(std::string* out) const override;

 private:
  struct Series {
    std::vector<int64_t> buckets;  // per bound, not cumulative; the last is +Inf
    double sum = 0;
    int64_t count = 0;
  };
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

// Bounds growing by `factor` from `start`: start, start*factor, ... (count of them).
std::vector<double> ExponentialBounds(double start, double factor, int count);

// Every metric the server records.
struct ServingMetrics {
  ServingMetrics();
  // The exposition text of every family.
  std::string Render() const;

  // {model_name, version, API (predict, classify, regress, metadata, status),
  //  entrypoint (REST, GRPC), status (OK or the error's code name)}.
  Counter request_count;
  // Microseconds from a request's arrival to its answer, same labels but status.
  Histogram request_latency;
  // Per executed batch: rows before padding; microseconds the oldest request
  // waited in the queue ({model_name, version}).
  Histogram batch_size;
  Histogram queuing_latency;
  // {model_name, version, event (load, load_failed, unload)}.
  Counter version_events;
  // Seconds a version took to load and warm up ({model_name, version}).
  Histogram load_latency;
};

// The process-wide instance (the server has one set of metrics).
ServingMetrics& Metrics();

}  // namespace braid::serving
