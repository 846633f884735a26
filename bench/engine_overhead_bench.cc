// What braid's engine adds on top of the work itself (issue 4):
//
//   BM_BraidMatMul/N, BM_DnnlMatMul/N: an N x N f32 matmul through a braid
//     session (placeholders fed, the product fetched) against the same
//     product by a oneDNN matmul primitive created once and executed on
//     buffers allocated once: the difference is braid's overhead per kernel.
//   BM_BraidConv2D*/BM_DnnlConv2D*: the CNN's second convolution (batch 128,
//     14x14x32 -> 14x14x64, 5x5, same), forward and both gradients, through
//     braid's kernels against oneDNN primitives called directly.
//   BM_ExecutorChain/N: a chain of N scalar Adds run by a session: time per
//     node is the executor's overhead (the adds themselves cost nanoseconds).
//
// Both sides use the same thread count (--threads, default 1):
//   build/bench/engine_overhead_bench [--threads=2] --benchmark_min_time=1
// On a VM whose speed drifts from one second to the next, compare medians of
// interleaved repetitions instead: back-to-back runs of one side then the
// other differ by ±5% on their own.
//   build/bench/engine_overhead_bench --threads=2 --benchmark_min_time=0.3
//     --benchmark_repetitions=12 --benchmark_enable_random_interleaving=true
//     --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <unordered_map>
#include <cstring>
#include <string>

#include "braid/base/check.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/runtime/device.h"
#include "braid/runtime/session.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace braid {
namespace {

int g_threads = 1;

SessionOptions Options() {
  SessionOptions o;
  o.inter_op_threads = 1;
  o.intra_op_threads = g_threads;
  return o;
}

Tensor Random(const TensorShape& shape) {
  Tensor t(DType::kFloat, shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    p[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  }
  return t;
}

void BM_BraidMatMul(benchmark::State& state) {
  const int64_t n = state.range(0);
  Scope s = Scope::NewRootScope();
  Output a = ops::Placeholder(s.WithOpName("a"), DType::kFloat, TensorShape{n, n});
  Output b = ops::Placeholder(s.WithOpName("b"), DType::kFloat, TensorShape{n, n});
  Output c = ops::MatMul(s.WithOpName("c"), a, b);
  ClientSession session(s, Options());
  const Tensor ta = Random({n, n}), tb = Random({n, n});
  std::vector<Tensor> out;
  for (auto _ : state) {
    BRAID_CHECK(session.Run({{a, ta}, {b, tb}}, {c}, &out).ok());
    benchmark::DoNotOptimize(out[0].raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_DnnlMatMul(benchmark::State& state) {
  const int64_t n = state.range(0);
  omp_set_num_threads(g_threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
  Tensor ta = Random({n, n}), tb = Random({n, n}), tc(DType::kFloat, {n, n});
  dnnl::memory ma(md, engine, ta.raw_data()), mb(md, engine, tb.raw_data()),
      mc(md, engine, tc.raw_data());
  dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), engine));
  for (auto _ : state) {
    matmul.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// The CNN's second convolution: [128,14,14,32] * [5,5,32,64] -> [128,14,14,64].
constexpr int64_t kN = 128, kH = 14, kC = 32, kOC = 64, kK = 5;
double ConvFlops() { return 2.0 * kN * kH * kH * kOC * kK * kK * kC; }

enum class Pass { kForward, kInputGrad, kFilterGrad };

void BraidConv(benchmark::State& state, Pass pass) {
  Scope s = Scope::NewRootScope();
  const std::vector<int64_t> strides = {1, 1, 1, 1};
  Output x = ops::Placeholder(s.WithOpName("x"), DType::kFloat, TensorShape{kN, kH, kH, kC});
  Output w = ops::Placeholder(s.WithOpName("w"), DType::kFloat, TensorShape{kK, kK, kC, kOC});
  Output dy = ops::Placeholder(s.WithOpName("dy"), DType::kFloat, TensorShape{kN, kH, kH, kOC});
  Output out;
  switch (pass) {
    case Pass::kForward:
      out = ops::Conv2D(s, x, w, strides, "SAME");
      break;
    case Pass::kInputGrad:
      out = ops::Conv2DBackpropInput(
          s, ops::Const(s, Tensor::FromVector<int32_t>({kN, kH, kH, kC})), w, dy, strides, "SAME");
      break;
    case Pass::kFilterGrad:
      out = ops::Conv2DBackpropFilter(
          s, x, ops::Const(s, Tensor::FromVector<int32_t>({kK, kK, kC, kOC})), dy, strides,
          "SAME");
      break;
  }
  ClientSession session(s, Options());
  const Tensor tx = Random({kN, kH, kH, kC}), tw = Random({kK, kK, kC, kOC}),
               tdy = Random({kN, kH, kH, kOC});
  ClientSession::FeedType feeds;
  if (pass != Pass::kInputGrad) feeds.push_back({x, tx});
  if (pass != Pass::kFilterGrad) feeds.push_back({w, tw});
  if (pass != Pass::kForward) feeds.push_back({dy, tdy});
  std::vector<Tensor> result;
  for (auto _ : state) {
    BRAID_CHECK(session.Run(feeds, {out}, &result).ok());
    benchmark::DoNotOptimize(result[0].raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(ConvFlops(), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// oneDNN at its best: primitives that chose their own (blocked) layouts, on
// memory already in those layouts, so only the execution is timed.
void DnnlConv(benchmark::State& state, Pass pass) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  omp_set_num_threads(g_threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc x_md({kN, kC, kH, kH}, dt::f32, tag::any);
  const dnnl::memory::desc w_md({kOC, kC, kK, kK}, dt::f32, tag::any);
  const dnnl::memory::desc y_md({kN, kOC, kH, kH}, dt::f32, tag::any);
  const dnnl::memory::dims strides = {1, 1}, pad = {2, 2};
  const auto alg = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, x_md, w_md, y_md,
                                      strides, pad, pad),
      engine);
  auto filled = [&](const dnnl::memory::desc& md) {
    dnnl::memory m(md, engine);
    std::memset(m.get_data_handle(), 0, md.get_size());
    return m;
  };
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  switch (pass) {
    case Pass::kForward:
      prim = dnnl::convolution_forward(fwd);
      args = {{DNNL_ARG_SRC, filled(fwd.src_desc())},
              {DNNL_ARG_WEIGHTS, filled(fwd.weights_desc())},
              {DNNL_ARG_DST, filled(fwd.dst_desc())}};
      break;
    case Pass::kInputGrad: {
      dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(alg, x_md, w_md, y_md, strides, pad, pad), engine,
          fwd);
      prim = dnnl::convolution_backward_data(pd);
      args = {{DNNL_ARG_DIFF_SRC, filled(pd.diff_src_desc())},
              {DNNL_ARG_WEIGHTS, filled(pd.weights_desc())},
              {DNNL_ARG_DIFF_DST, filled(pd.diff_dst_desc())}};
      break;
    }
    case Pass::kFilterGrad: {
      dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(alg, x_md, w_md, y_md, strides, pad, pad),
          engine, fwd);
      prim = dnnl::convolution_backward_weights(pd);
      args = {{DNNL_ARG_SRC, filled(pd.src_desc())},
              {DNNL_ARG_DIFF_WEIGHTS, filled(pd.diff_weights_desc())},
              {DNNL_ARG_DIFF_DST, filled(pd.diff_dst_desc())}};
      break;
    }
  }
  for (auto _ : state) {
    prim.execute(stream, args);
    stream.wait();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(ConvFlops(), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_BraidConv2DForward(benchmark::State& s) { BraidConv(s, Pass::kForward); }
void BM_DnnlConv2DForward(benchmark::State& s) { DnnlConv(s, Pass::kForward); }
void BM_BraidConv2DInputGrad(benchmark::State& s) { BraidConv(s, Pass::kInputGrad); }
void BM_DnnlConv2DInputGrad(benchmark::State& s) { DnnlConv(s, Pass::kInputGrad); }
void BM_BraidConv2DFilterGrad(benchmark::State& s) { BraidConv(s, Pass::kFilterGrad); }
void BM_DnnlConv2DFilterGrad(benchmark::State& s) { DnnlConv(s, Pass::kFilterGrad); }

void BM_ExecutorChain(benchmark::State& state) {
  const int64_t n = state.range(0);
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DType::kFloat, TensorShape{});
  Output y = x;
  for (int64_t i = 0; i < n; ++i) y = ops::Add(s, y, x);
  ClientSession session(s, Options());
  const Tensor one = Tensor::Scalar<float>(1.0f);
  std::vector<Tensor> out;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    BRAID_CHECK(session.Run({{x, one}}, {y}, &out).ok());
    benchmark::DoNotOptimize(out[0].raw_data());
  }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  state.counters["ns_per_node"] = ns / static_cast<double>(state.iterations() * n);
}

BENCHMARK(BM_BraidMatMul)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DnnlMatMul)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_BraidConv2DForward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DnnlConv2DForward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_BraidConv2DInputGrad)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DnnlConv2DInputGrad)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_BraidConv2DFilterGrad)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DnnlConv2DFilterGrad)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ExecutorChain)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace braid

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) braid::g_threads = std::atoi(argv[i] + 10);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
