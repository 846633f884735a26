// The machine's single-precision GEMM peak as oneDNN reaches it: large square
// f32 matmuls (1024, 1536, 2048 and 3072, or SIZE), repeated, on THREADS
// OpenMP threads; prints the best GFLOP/s. The denominator of the CNN's
// "share of peak" in bench/vs_pytorch.sh.
//   gemm_peak [THREADS] [SIZE]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

double BestGflops(int64_t n) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n);
  dnnl::memory ma(md, engine, a.data()), mb(md, engine, b.data()), mc(md, engine, c.data());
  dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), engine));
  auto run = [&] {
    matmul.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  };
  run();  // JIT and first touch
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const int iters = 5;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) run();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * n * n * n * iters / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  omp_set_num_threads(threads);
  std::vector<int64_t> sizes = {1024, 1536, 2048, 3072};
  if (argc > 2) sizes = {std::atoll(argv[2])};
  double best = 0;
  int64_t best_size = 0;
  for (int64_t n : sizes) {
    const double g = BestGflops(n);
    if (g > best) best = g, best_size = n;
  }
  std::printf("{\"threads\": %d, \"size\": %lld, \"gflops\": %.1f}\n", threads,
              static_cast<long long>(best_size), best);
  return 0;
}
