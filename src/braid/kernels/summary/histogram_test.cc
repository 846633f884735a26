#include "braid/kernels/summary/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>

#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

double Sum(const tensorflow::HistogramProto& h) {
  double s = 0;
  for (double c : h.bucket()) s += c;
  return s;
}

TEST(Histogram, BucketLayoutIsTensorFlows) {
  absl::Span<const double> limits = Histogram::BucketLimits();
  // 774 positive limits 1e-12 * 1.1^k below 1e20, DBL_MAX, their negatives, and 0.
  ASSERT_EQ(limits.size(), 2 * 775 + 1);
  const size_t zero = limits.size() / 2;
  EXPECT_EQ(limits[zero], 0.0);
  EXPECT_EQ(limits[zero + 1], 1e-12);
  EXPECT_DOUBLE_EQ(limits[zero + 2], 1.1e-12);
  EXPECT_LT(limits[limits.size() - 2], 1e20);
  EXPECT_GT(limits[limits.size() - 2] * 1.1, 1e20 * (1 - 1e-9));
  EXPECT_EQ(limits.back(), DBL_MAX);
  EXPECT_EQ(limits.front(), -DBL_MAX);
  for (size_t i = 0; i < zero; ++i) EXPECT_EQ(limits[i], -limits[limits.size() - 1 - i]);
  for (size_t i = 1; i < limits.size(); ++i) ASSERT_LT(limits[i - 1], limits[i]);
}

TEST(Histogram, BucketsHoldTheirValuesAndSumToNum) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.5, 2.0);
  Histogram h;
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(normal(rng));
  values.push_back(0.0);
  values.push_back(-0.0);
  values.push_back(1e-300);
  values.push_back(1e30);
  values.push_back(-1e30);
  for (double v : values) h.Add(v);
  tensorflow::HistogramProto p;
  h.EncodeToProto(&p);
  EXPECT_EQ(p.num(), static_cast<double>(values.size()));
  EXPECT_EQ(Sum(p), p.num());
  EXPECT_EQ(p.min(), -1e30);
  EXPECT_EQ(p.max(), 1e30);
  double sum = 0, sum_squares = 0;
  for (double v : values) sum += v, sum_squares += v * v;
  EXPECT_DOUBLE_EQ(p.sum(), sum);
  EXPECT_DOUBLE_EQ(p.sum_squares(), sum_squares);
  ASSERT_EQ(p.bucket_limit_size(), p.bucket_size());

  // Every limit is one of the layout's, increasing; every non-empty bucket
  // counts exactly the values in [previous limit, its limit).
  absl::Span<const double> limits = Histogram::BucketLimits();
  double lower = -INFINITY;
  for (int i = 0; i < p.bucket_size(); ++i) {
    EXPECT_TRUE(std::binary_search(limits.begin(), limits.end(), p.bucket_limit(i)));
    EXPECT_GT(p.bucket_limit(i), lower);
    double count = 0;
    for (double v : values) count += (v >= lower && v < p.bucket_limit(i)) ? 1 : 0;
    EXPECT_EQ(p.bucket(i), count) << "bucket ending at " << p.bucket_limit(i);
    lower = p.bucket_limit(i);
  }
  EXPECT_EQ(p.bucket_limit(p.bucket_size() - 1), DBL_MAX);
}

// Add finds a value's bucket from a logarithm and a few steps; it must agree
// with a plain binary search for every value, limits and their neighbours
// included.
TEST(Histogram, EveryValueLandsInTheBucketOfABinarySearch) {
  absl::Span<const double> limits = Histogram::BucketLimits();
  std::vector<double> values = {0.0, -0.0, 1e-13, -1e-13, 1e25, -1e25, DBL_MAX, -DBL_MAX,
                                INFINITY, -INFINITY, DBL_MIN, -DBL_MIN};
  for (double l : limits) {
    values.push_back(l);
    values.push_back(std::nextafter(l, INFINITY));
    values.push_back(std::nextafter(l, -INFINITY));
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-15, 22);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::pow(10.0, exponent(rng));
    values.push_back(i % 2 ? v : -v);
  }
  for (double v : values) {
    Histogram h;
    h.Add(v);
    tensorflow::HistogramProto proto;
    h.EncodeToProto(&proto);
    size_t expected = std::upper_bound(limits.begin(), limits.end(), v) - limits.begin();
    expected = std::min(expected, limits.size() - 1);
    // The one non-empty bucket ends at the expected limit.
    double filled_limit = NAN;
    for (int b = 0; b < proto.bucket_size(); ++b)
      if (proto.bucket(b) > 0) filled_limit = proto.bucket_limit(b);
    ASSERT_EQ(filled_limit, limits[expected]) << "value " << v;
  }
}

TEST(Histogram, RunsOfEmptyBucketsCollapse) {
  Histogram h;
  h.Add(1.0);
  h.Add(1.0);
  h.Add(-3.0);
  tensorflow::HistogramProto p;
  h.EncodeToProto(&p);
  // empty run, -3's bucket, empty run, 1's bucket, empty run.
  ASSERT_EQ(p.bucket_size(), 5);
  EXPECT_EQ(p.bucket(0), 0);
  EXPECT_EQ(p.bucket(1), 1);
  EXPECT_EQ(p.bucket(2), 0);
  EXPECT_EQ(p.bucket(3), 2);
  EXPECT_EQ(p.bucket(4), 0);
  EXPECT_LE(p.bucket_limit(0), -3.0);
  EXPECT_GT(p.bucket_limit(1), -3.0);
  EXPECT_LE(p.bucket_limit(2), 1.0);
  EXPECT_GT(p.bucket_limit(3), 1.0);
  EXPECT_LT(p.bucket_limit(3), 1.1 + 1e-9);
  EXPECT_EQ(p.bucket_limit(4), DBL_MAX);
}

TEST(Histogram, EmptyHistogramHasOneEmptyBucket) {
  tensorflow::HistogramProto p;
  Histogram().EncodeToProto(&p);
  EXPECT_EQ(p.num(), 0);
  ASSERT_EQ(p.bucket_size(), 1);
  EXPECT_EQ(p.bucket(0), 0);
  EXPECT_EQ(p.bucket_limit(0), DBL_MAX);
}

}  // namespace
}  // namespace braid
