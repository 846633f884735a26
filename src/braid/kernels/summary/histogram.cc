#include "braid/kernels/summary/histogram.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

std::vector<double> MakeBucketLimits() {
  std::vector<double> positive;
  for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
  positive.push_back(DBL_MAX);
  std::vector<double> limits;
  limits.reserve(2 * positive.size() + 1);
  for (auto it = positive.rbegin(); it != positive.rend(); ++it) limits.push_back(-*it);
  limits.push_back(0.0);
  limits.insert(limits.end(), positive.begin(), positive.end());
  return limits;
}

}  // namespace

absl::Span<const double> Histogram::BucketLimits() {
  static const std::vector<double>* const limits = new std::vector<double>(MakeBucketLimits());
  return *limits;
}

Histogram::Histogram()
    : min_(BucketLimits().back()), max_(-DBL_MAX), counts_(BucketLimits().size(), 0.0) {}

namespace {

// Near the first limit above `value`: the limits are ±1e-12 · 1.1^k around a
// 0 at index `zero`, so a logarithm finds the neighbourhood at once instead
// of a binary search over all 1551 (the search was most of a summary's cost).
size_t GuessBucket(double value, size_t zero, size_t size) {
  constexpr double kSmallest = 1e-12;
  static const double kInvLog = 1.0 / std::log(1.1);
  const double magnitude = std::fabs(value);
  if (!std::isfinite(value) || magnitude <= kSmallest) return value < 0 ? zero : zero + 1;
  const double k = std::log(magnitude / kSmallest) * kInvLog;
  if (k >= static_cast<double>(zero)) return value < 0 ? 0 : size - 1;
  const size_t j = static_cast<size_t>(k);
  return value < 0 ? zero - 1 - j : zero + 2 + j;
}

}  // namespace

void Histogram::Add(double value) {
  absl::Span<const double> limits = BucketLimits();
  // The first limit above the value closes its bucket (Note [Histogram
  // buckets]): from the guess, step to it (a step or two at most).
  size_t bucket = GuessBucket(value, limits.size() / 2, limits.size());
  while (bucket < limits.size() && limits[bucket] <= value) ++bucket;
  while (bucket > 0 && limits[bucket - 1] > value) --bucket;
  // Only +inf lies past the last limit (DBL_MAX); it joins the last bucket.
  bucket = std::min(bucket, limits.size() - 1);
  counts_[bucket] += 1;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  num_ += 1;
  sum_ += value;
  sum_squares_ += value * value;
}

void Histogram::EncodeToProto(tensorflow::HistogramProto* proto) const {
  absl::Span<const double> limits = BucketLimits();
  proto->Clear();
  proto->set_min(min_);
  proto->set_max(max_);
  proto->set_num(num_);
  proto->set_sum(sum_);
  proto->set_sum_squares(sum_squares_);
  for (size_t i = 0; i < counts_.size();) {
    double limit = limits[i];
    double count = counts_[i];
    ++i;
    if (count <= 0) {
      while (i < counts_.size() && counts_[i] <= 0) limit = limits[i++];
    }
    proto->add_bucket_limit(limit);
    proto->add_bucket(count);
  }
}

}  // namespace braid
