// Element-wise loops over large arrays, such as the optimizers' updates:
//   ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY { ... });
// calls the body on [0, n) in one range, or, above kParallelAbove elements,
// in one range per intra-op thread (OpenMP). An index may stand for several
// elements (a row): `elements_per_index` says how many. Each range runs in code
// compiled three times, for AVX-512, AVX2 and the baseline x86-64, and the
// dynamic loader picks the one this CPU runs (GCC's target_clones): the
// project builds for the baseline, where a vector holds 4 floats, not 8 or 16.
// Files using it compile with -ffp-contract=off, so that the AVX-512 code
// (which has FMA) rounds as the others do.
// The body must be inlined into that code to be compiled for AVX2, hence
// BRAID_VECTOR_BODY on the lambda; loops inside it want `#pragma omp simd`
// and __restrict pointers.
#pragma once

#include <omp.h>

#include <cstdint>

#define BRAID_VECTOR_BODY __attribute__((always_inline))

namespace braid {

// Below this many elements a loop costs less than waking another thread.
inline constexpr int64_t kParallelAbove = 65536;

namespace internal {
template <typename Body>
__attribute__((target_clones("avx512f", "avx2", "default"))) void RunRange(const Body& body, int64_t begin,
                                                                int64_t end) {
  body(begin, end);
}
}  // namespace internal

template <typename Body>
void ForEachRange(int64_t n, const Body& body, int64_t elements_per_index = 1) {
  if (n * elements_per_index <= kParallelAbove) {
    internal::RunRange(body, 0, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    internal::RunRange(body, n * t / k, n * (t + 1) / k);
  }
}

}  // namespace braid
