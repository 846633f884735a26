// What the dashboard holds of one run: a bounded series per tag and plugin
// (Note [Stride sampling] in sampled_series.h) and the run's latest graph.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "braid/board/sampled_series.h"
#include "braid/board/summary_values.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::board {

struct ScalarPoint {
  double wall_time = 0;
  int64_t step = 0;
  double value = 0;
};
struct HistogramPoint {
  double wall_time = 0;
  int64_t step = 0;
  std::vector<Bucket> buckets;
};
struct ImagePoint {
  double wall_time = 0;
  int64_t step = 0;
  int width = 0;
  int height = 0;
  int samples = 1;
  std::string encoded;
};
struct TextPoint {
  double wall_time = 0;
  int64_t step = 0;
  std::string text;
};

// How many points a series keeps per plugin (TensorBoard's defaults for
// scalars, images and text; fewer histograms, which are larger).
struct SamplingLimits {
  size_t scalars = 1000;
  size_t histograms = 200;
  size_t images = 10;
  size_t text = 100;
};

template <typename Point>
using SeriesByTag = std::map<std::string, SampledSeries<Point>>;

// Not thread-safe; see Run below.
class RunData {
 public:
  explicit RunData(SamplingLimits limits) : limits_(limits) {}

  // Adds what the event carries: its summary values, or its graph.
  void AddEvent(const tensorflow::Event& event);

  const SeriesByTag<ScalarPoint>& scalars() const { return scalars_; }
  const SeriesByTag<HistogramPoint>& histograms() const { return histograms_; }
  const SeriesByTag<ImagePoint>& images() const { return images_; }
  const SeriesByTag<TextPoint>& text() const { return text_; }
  // The serialized GraphDef of the latest event that carried one; empty if none.
  const std::string& graph_def() const { return graph_def_; }

  int64_t events() const { return events_; }
  // Summary values that could not be decoded (a malformed tensor, say), and
  // what was wrong with the latest of them.
  int64_t bad_values() const { return bad_values_; }
  const std::string& last_bad_value() const { return last_bad_value_; }

 private:
  void AddValue(double wall_time, int64_t step, const tensorflow::Summary::Value& value);

  SamplingLimits limits_;
  SeriesByTag<ScalarPoint> scalars_;
  SeriesByTag<HistogramPoint> histograms_;
  SeriesByTag<ImagePoint> images_;
  SeriesByTag<TextPoint> text_;
  std::string graph_def_;
  // The plugin name a tag's first value carried: writers send metadata once.
  std::unordered_map<std::string, std::string> plugin_of_tag_;
  int64_t events_ = 0;
  int64_t bad_values_ = 0;
  std::string last_bad_value_;
};

// A run's data behind a reader-writer lock: the watcher writes while HTTP
// handlers read. Thread-safe.
class Run {
 public:
  Run(std::string name, SamplingLimits limits) : name_(std::move(name)), data_(limits) {}

  const std::string& name() const { return name_; }
  // Runs fn(const RunData&) under a shared lock and returns its result.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    std::shared_lock lock(mu_);
    return fn(static_cast<const RunData&>(data_));
  }
  // Runs fn(RunData&) under an exclusive lock and returns its result.
  template <typename Fn>
  auto Write(Fn&& fn) {
    std::unique_lock lock(mu_);
    return fn(data_);
  }

 private:
  const std::string name_;
  mutable std::shared_mutex mu_;
  RunData data_;  // protected by mu_
};

}  // namespace braid::board
