// Kernels of Sum, Mean, Max, Min, Prod, ArgMax and ArgMin
// (graph/ops/math_ops.cc).
//
// Note [Reduction layout]
// The input's dimensions are collapsed into groups that alternate between
// kept and reduced (size-1 dimensions dropped), so every reduction is one of
// [K] (all), [M,K] (rows), [K,M] (columns), [A,K,B], ... The output starts at
// the reducer's identity and each input element is combined into its output
// slot, the innermost group running as a tight loop: a row reduction with
// several accumulators when the last group is reduced, a vector combine when
// it is kept. Each output's summation order is fixed, so results do not
// depend on the thread count.
#include <cmath>
#include <limits>
#include <set>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

template <typename T>
inline bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

template <typename T>
struct SumReducer {
  static T Init() { return T(0); }
  static T Combine(T a, T b) { return a + b; }
};
template <typename T>
struct ProdReducer {
  static T Init() { return T(1); }
  static T Combine(T a, T b) { return a * b; }
};
// Max/Min propagate NaN.
template <typename T>
struct MaxReducer {
  static T Init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  static T Combine(T a, T b) { return (a < b || IsNan(b)) ? b : a; }
};
template <typename T>
struct MinReducer {
  static T Init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::max();
  }
  static T Combine(T a, T b) { return (b < a || IsNan(b)) ? b : a; }
};

// Eight independent accumulators let the compiler vectorize the loop.
template <typename T, typename R>
T ReduceRow(const T* in, int64_t n) {
  constexpr int kLanes = 8;
  T acc[kLanes];
  for (T& a : acc) a = R::Init();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] = R::Combine(acc[k], in[i + k]);
  for (; i < n; ++i) acc[0] = R::Combine(acc[0], in[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int k = 0; k < w; ++k) acc[k] = R::Combine(acc[k], acc[k + w]);
  return acc[0];
}

struct Groups {
  std::vector<int64_t> size;
  std::vector<bool> reduced;
  std::vector<int64_t> in_stride;
  std::vector<int64_t> out_stride;
  int count() const { return static_cast<int>(size.size()); }
};

Groups MakeGroups(const TensorShape& shape, const std::vector<bool>& reduced) {
  Groups g;
  for (int d = 0; d < shape.rank(); ++d) {
    if (shape.dim(d) == 1) continue;
    if (!g.size.empty() && g.reduced.back() == reduced[d]) {
      g.size.back() *= shape.dim(d);
    } else {
      g.size.push_back(shape.dim(d));
      g.reduced.push_back(reduced[d]);
    }
  }
  const int n = g.count();
  g.in_stride.assign(n, 1);
  g.out_stride.assign(n, 0);
  int64_t in = 1, out = 1;
  for (int i = n - 1; i >= 0; --i) {
    g.in_stride[i] = in;
    in *= g.size[i];
    if (!g.reduced[i]) {
      g.out_stride[i] = out;
      out *= g.size[i];
    }
  }
  return g;
}

template <typename T, typename R>
void Accumulate(const Groups& g, int level, const T* in, T* out) {
  const int64_t n = g.size[level];
  if (level == g.count() - 1) {
    if (g.reduced[level]) {
      *out = R::Combine(*out, ReduceRow<T, R>(in, n));
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = R::Combine(out[i], in[i]);
    }
    return;
  }
  const int64_t os = g.reduced[level] ? 0 : g.out_stride[level];
  for (int64_t i = 0; i < n; ++i) {
    Accumulate<T, R>(g, level + 1, in + i * g.in_stride[level], out + i * os);
  }
}

// Reduces `in` (laid out as `g`) into `out`, already holding R::Init().
template <typename T, typename R>
void Reduce(const Groups& g, const T* in, T* out) {
  const int n = g.count();
  if (n == 0) {  // every dimension has size 1: nothing to combine
    *out = R::Combine(*out, *in);
    return;
  }
  if (n == 1 && g.reduced[0]) {
    // A full reduction in fixed blocks, combined in order: deterministic.
    const int64_t total = g.size[0];
    constexpr int64_t kBlock = 1 << 14;
    const int64_t blocks = (total + kBlock - 1) / kBlock;
    std::vector<T> partial(blocks, R::Init());
    kernel_util::ParallelFor(blocks, kBlock, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        partial[b] = ReduceRow<T, R>(in + b * kBlock, std::min(kBlock, total - b * kBlock));
      }
    });
    for (const T& p : partial) *out = R::Combine(*out, p);
    return;
  }
  if (!g.reduced[0]) {
    // Split the outermost kept group: threads write disjoint outputs.
    kernel_util::ParallelFor(g.size[0], g.in_stride[0], [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        if (n == 1) {
          out[i] = R::Combine(out[i], in[i]);
        } else {
          Accumulate<T, R>(g, 1, in + i * g.in_stride[0], out + i * g.out_stride[0]);
        }
      }
    });
    return;
  }
  // Reduced outermost group: split the kept group under it instead.
  kernel_util::ParallelFor(g.size[1], g.size[0] * g.in_stride[1], [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < g.size[0]; ++i) {
      const T* row = in + i * g.in_stride[0];
      if (n == 2) {
        for (int64_t j = j0; j < j1; ++j) out[j] = R::Combine(out[j], row[j]);
      } else {
        for (int64_t j = j0; j < j1; ++j) {
          Accumulate<T, R>(g, 2, row + j * g.in_stride[1], out + j * g.out_stride[1]);
        }
      }
    }
  });
}

// Validated reduction axes as a per-dimension mask.
absl::StatusOr<std::vector<bool>> ReducedMask(const Tensor& axes, const TensorShape& shape) {
  absl::StatusOr<std::vector<int64_t>> values = kernel_util::IntValues(axes, "reduction_indices");
  if (!values.ok()) return values.status();
  const int rank = shape.rank();
  std::vector<bool> mask(rank, false);
  for (int64_t a : *values) {
    if (a < -rank || a >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("reduction axis ", a, " is out of range for input of shape ",
                       shape.DebugString(), "; valid axes are [", -rank, ", ", rank, ")"));
    }
    mask[a < 0 ? a + rank : a] = true;
  }
  return mask;
}

template <typename T, template <typename> class R, bool kMean = false>
class ReductionOp : public OpKernel {
 public:
  explicit ReductionOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, bool, "keep_dims", keep_dims_);
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::StatusOr<std::vector<bool>> mask = ReducedMask(ctx->input(1), x.shape());
    OP_REQUIRES_OK(ctx, mask.status());
    TensorShape out_shape;
    for (int d = 0; d < x.rank(); ++d) {
      if (!(*mask)[d]) {
        out_shape.AddDim(x.dim(d));
      } else if (keep_dims_) {
        out_shape.AddDim(1);
      }
    }
    Tensor* out = ctx->allocate_output(0, out_shape);
    T* op = out->data<T>();
    const int64_t n_out = out->NumElements();
    std::fill_n(op, n_out, R<T>::Init());
    if (x.NumElements() > 0) Reduce<T, R<T>>(MakeGroups(x.shape(), *mask), x.data<T>(), op);
    if constexpr (kMean) {
      const int64_t count = n_out == 0 ? 0 : x.NumElements() / n_out;
      if (std::is_integral_v<T> && count == 0) return;  // empty mean: 0, not a trap
      const T divisor = static_cast<T>(count);
      for (int64_t i = 0; i < n_out; ++i) op[i] /= divisor;
    }
  }

 private:
  bool keep_dims_ = false;
};

#define REGISTER_REDUCTION(name, T, ...) \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(name).TypeConstraint<T>("T"), ReductionOp<T, __VA_ARGS__>)
#define REGISTER_REDUCTIONS(T)                     \
  REGISTER_REDUCTION("Sum", T, SumReducer);        \
  REGISTER_REDUCTION("Mean", T, SumReducer, true); \
  REGISTER_REDUCTION("Max", T, MaxReducer);        \
  REGISTER_REDUCTION("Min", T, MinReducer);        \
  REGISTER_REDUCTION("Prod", T, ProdReducer)
REGISTER_REDUCTIONS(float);
REGISTER_REDUCTIONS(double);
REGISTER_REDUCTIONS(int32_t);
REGISTER_REDUCTIONS(int64_t);

// ArgMax / ArgMin over one axis of x viewed as [outer, K, inner]; the first
// index wins ties, NaN counts as the extreme.
template <typename T, typename Index, bool kMax>
class ArgOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  static bool Better(T a, T b) {
    if (IsNan(b)) return false;
    if (IsNan(a)) return true;
    return kMax ? a > b : a < b;
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::StatusOr<int64_t> axis = kernel_util::IntScalar(ctx->input(1), "dimension");
    OP_REQUIRES_OK(ctx, axis.status());
    const int rank = x.rank();
    OP_REQUIRES(ctx, *axis >= -rank && *axis < rank,
                absl::InvalidArgumentError(
                    absl::StrCat("dimension ", *axis, " is out of range for input of shape ",
                                 x.shape().DebugString(), "; valid: [", -rank, ", ", rank, ")")));
    const int a = static_cast<int>(*axis < 0 ? *axis + rank : *axis);
    const int64_t k = x.dim(a);
    OP_REQUIRES(ctx, k > 0,
                absl::InvalidArgumentError(absl::StrCat("cannot reduce over dimension ", a,
                                                        " of size 0 (input shape ",
                                                        x.shape().DebugString(), ")")));
    int64_t outer = 1, inner = 1;
    TensorShape out_shape;
    for (int d = 0; d < rank; ++d) {
      if (d < a) outer *= x.dim(d);
      if (d > a) inner *= x.dim(d);
      if (d != a) out_shape.AddDim(x.dim(d));
    }
    Tensor* out = ctx->allocate_output(0, out_shape);
    const T* xp = x.data<T>();
    Index* op = out->data<Index>();
    kernel_util::ParallelFor(outer, k * inner, [&](int64_t o0, int64_t o1) {
      std::vector<T> best(inner);
      for (int64_t o = o0; o < o1; ++o) {
        const T* base = xp + o * k * inner;
        Index* res = op + o * inner;
        if (inner == 1) {  // one row: keep the best in a register
          T b = base[0];
          int64_t at = 0;
          for (int64_t i = 1; i < k; ++i) {
            const T v = base[i];
            if (kMax ? v > b : v < b) {
              b = v;
              at = i;
            } else if (IsNan(v) && !IsNan(b)) {
              b = v;
              at = i;
            }
          }
          *res = static_cast<Index>(at);
          continue;
        }
        std::copy_n(base, inner, best.data());
        std::fill_n(res, inner, Index{0});
        for (int64_t i = 1; i < k; ++i) {
          const T* row = base + i * inner;
          for (int64_t j = 0; j < inner; ++j) {
            if (Better(row[j], best[j])) {
              best[j] = row[j];
              res[j] = static_cast<Index>(i);
            }
          }
        }
      }
    });
  }
};

#define REGISTER_ARG(name, kMax, T, Index)                                                \
  BRAID_REGISTER_KERNEL(                                                                  \
      KernelDefBuilder(name).TypeConstraint<T>("T").TypeConstraint<Index>("output_type"), \
      ArgOp<T, Index, kMax>)
#define REGISTER_ARGS(T)                     \
  REGISTER_ARG("ArgMax", true, T, int32_t);  \
  REGISTER_ARG("ArgMax", true, T, int64_t);  \
  REGISTER_ARG("ArgMin", false, T, int32_t); \
  REGISTER_ARG("ArgMin", false, T, int64_t)
REGISTER_ARGS(float);
REGISTER_ARGS(double);
REGISTER_ARGS(int32_t);
REGISTER_ARGS(int64_t);

}  // namespace
}  // namespace braid
