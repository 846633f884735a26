// Test-only helpers for the math and array op tables: tensor construction,
// row-major index arithmetic and a NumPy broadcasting reference, all written
// with plain loops independently of the kernels they check.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "braid/tensor/tensor.h"
#include "braid/testing/op_test_harness.h"

namespace braid::op_test {

inline std::vector<int64_t> Unravel(const TensorShape& s, int64_t i) {
  std::vector<int64_t> idx(s.rank());
  for (int d = s.rank() - 1; d >= 0; --d) {
    idx[d] = i % s.dim(d);
    i /= s.dim(d);
  }
  return idx;
}

inline int64_t Ravel(const TensorShape& s, const std::vector<int64_t>& idx) {
  int64_t i = 0;
  for (int d = 0; d < s.rank(); ++d) i = i * s.dim(d) + idx[d];
  return i;
}

template <typename T>
Tensor Make(const TensorShape& s, const std::vector<T>& v) {
  return Tensor::FromVector(v, s);
}
inline Tensor I32(const std::vector<int32_t>& v) { return Tensor::FromVector(v); }
inline Tensor I64(const std::vector<int64_t>& v) { return Tensor::FromVector(v); }

inline Tensor Uniform(const TensorShape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  return testing::RandomTensor(s, seed, lo, hi);
}

// Values k * 0.1 + offset with random integer k in [-10, 10]: two tensors
// with offsets 0.03 and 0.08 never tie and never come within 0.05.
inline Tensor Separated(const TensorShape& s, uint64_t seed, float offset) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> k(-10, 10);
  Tensor t(DType::kFloat, s);
  for (float& v : t.flat<float>()) v = static_cast<float>(k(rng)) * 0.1f + offset;
  return t;
}

// Distinct values 0.1 * (a random permutation of 0..n-1) - 0.05 * n: no ties
// anywhere, so max/min gradients are unambiguous.
inline Tensor Distinct(const TensorShape& s, uint64_t seed) {
  Tensor t(DType::kFloat, s);
  const int64_t n = t.NumElements();
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(seed));
  for (int64_t i = 0; i < n; ++i) {
    t.data<float>()[i] = 0.1f * static_cast<float>(perm[i]) - 0.05f * static_cast<float>(n);
  }
  return t;
}

// NumPy broadcast of two shapes (REQUIRES: compatible).
inline TensorShape BroadcastShape(const TensorShape& a, const TensorShape& b) {
  const int r = std::max(a.rank(), b.rank());
  TensorShape out;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    const int64_t da = ia >= 0 ? a.dim(ia) : 1, db = ib >= 0 ? b.dim(ib) : 1;
    out.AddDim(da == 1 ? db : da);
  }
  return out;
}

// The flat element of `in` that broadcasting maps to output element `i`.
inline int64_t BroadcastSource(const TensorShape& in, const TensorShape& out, int64_t i) {
  std::vector<int64_t> oi = Unravel(out, i);
  std::vector<int64_t> ii(in.rank());
  for (int d = 0; d < in.rank(); ++d) {
    const int od = d + out.rank() - in.rank();
    ii[d] = in.dim(d) == 1 ? 0 : oi[od];
  }
  return Ravel(in, ii);
}

// Element i of a numeric tensor as double.
inline double At(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat:
      return t.data<float>()[i];
    case DType::kDouble:
      return t.data<double>()[i];
    case DType::kInt32:
      return t.data<int32_t>()[i];
    case DType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kUInt8:
      return t.data<uint8_t>()[i];
    case DType::kBool:
      return t.data<bool>()[i] ? 1 : 0;
    case DType::kBFloat16:
      return static_cast<float>(t.data<BFloat16>()[i]);
    default:
      return 0;
  }
}

}  // namespace braid::op_test
