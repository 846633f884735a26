// Histograms in TensorFlow's default bucket layout, the one TensorBoard's
// histogram and distribution dashboards were drawn for.
//
// Note [Histogram buckets]
// The bucket limits are exponential on both sides of zero: ±1e-12 · 1.1^k
// for as long as that stays below 1e20, then ±DBL_MAX as the outermost
// limits, with one limit at 0 in between (1551 limits in all). Bucket i holds
// the values v with limit[i-1] <= v < limit[i] (bucket 0 everything below
// limit[0]), exactly as TensorFlow's histogram.cc assigns them, so a value
// braid and TensorFlow bucket agree bucket for bucket. Relative resolution is
// 10% over 32 orders of magnitude, whatever the scale of the weights.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace tensorflow {
class HistogramProto;
}

namespace braid {

class Histogram {
 public:
  Histogram();

  // REQUIRES: `value` is not NaN (callers reject non-finite input first).
  void Add(double value);

  double num() const { return num_; }
  // The limits of Note [Histogram buckets], shared by every histogram.
  static absl::Span<const double> BucketLimits();

  // Writes min, max, num, sum, sum_squares and the buckets. Runs of empty
  // buckets are collapsed into one entry ending at the run's last limit, as
  // TensorFlow does (preserve_zero_buckets = false), so the proto stays small
  // while every limit written is one of BucketLimits(). An empty histogram
  // writes one empty bucket ending at DBL_MAX.
  void EncodeToProto(tensorflow::HistogramProto* proto) const;

 private:
  double min_;
  double max_;
  double num_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
  std::vector<double> counts_;  // one per bucket limit
};

}  // namespace braid
