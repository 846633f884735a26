// Helpers shared by the math and array kernels: OpenMP loop splitting,
// reading index tensors, and dispatch on element size for kernels that only
// move data (so one instantiation serves every dtype of that width).
#pragma once

#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "braid/tensor/tensor.h"

namespace braid::kernel_util {

// Below this much work (elements times a per-element cost) a loop runs on the
// calling thread: starting a parallel region costs a few microseconds.
constexpr int64_t kParallelWork = 32768;

// Calls fn(begin, end) on contiguous pieces of [0, n): one piece per OpenMP
// thread when n * cost_per_unit is large, else one piece inline.
template <typename Fn>
void ParallelFor(int64_t n, int64_t cost_per_unit, Fn&& fn) {
  if (n <= 0) return;
  if (n < 2 || n * cost_per_unit < kParallelWork || omp_in_parallel() ||
      omp_get_max_threads() == 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

// The values of an int32 or int64 tensor of rank <= 1 (`what` names it in
// errors).
absl::StatusOr<std::vector<int64_t>> IntValues(const Tensor& t, absl::string_view what);
// The value of an int32 or int64 scalar (or one-element vector).
absl::StatusOr<int64_t> IntScalar(const Tensor& t, absl::string_view what);
// A fully defined shape from an int32/int64 vector; negative sizes are errors.
absl::StatusOr<TensorShape> ShapeFromTensor(const Tensor& t, absl::string_view what);

// Calls fn.template operator()<U>() with an unsigned integer type as wide as
// one element of `dtype`; false for dtypes without a fixed size (string,
// resource).
template <typename Fn>
bool DispatchByElementSize(DType dtype, Fn&& fn) {
  switch (DTypeSize(dtype)) {
    case 1:
      fn.template operator()<uint8_t>();
      return true;
    case 2:
      fn.template operator()<uint16_t>();
      return true;
    case 4:
      fn.template operator()<uint32_t>();
      return true;
    case 8:
      fn.template operator()<uint64_t>();
      return true;
    default:
      return false;
  }
}

// The error for a data-movement kernel given a dtype it cannot move.
absl::Status UnsupportedDType(absl::string_view op, DType dtype);

// Raw element pointer of a fixed-size tensor viewed as U.
template <typename U>
const U* Elements(const Tensor& t) {
  return static_cast<const U*>(t.raw_data());
}
template <typename U>
U* MutableElements(Tensor* t) {
  return static_cast<U*>(t->raw_data());
}

}  // namespace braid::kernel_util
