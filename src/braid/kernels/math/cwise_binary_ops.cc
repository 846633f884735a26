// Kernels of the binary element-wise ops and SelectV2 (graph/ops/math_ops.cc).
// One loop template per op over a functor; broadcasting per
// Note [Broadcast iteration] in broadcast.h.
#include <cmath>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "braid/kernels/math/broadcast.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

struct AddF {
  template <typename T>
  T operator()(T a, T b) const {
    return a + b;
  }
};
struct SubF {
  template <typename T>
  T operator()(T a, T b) const {
    return a - b;
  }
};
struct MulF {
  template <typename T>
  T operator()(T a, T b) const {
    return a * b;
  }
};
struct DivF {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      // lowest / -1 overflows (and traps on x86); negate in unsigned instead.
      using U = std::make_unsigned_t<T>;
      if (b == -1) return static_cast<T>(U{0} - static_cast<U>(a));
    }
    return a / b;
  }
};
struct PowF {
  template <typename T>
  T operator()(T a, T b) const {
    return std::pow(a, b);
  }
};
template <typename T>
inline bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}
// NaN wins, as in TensorFlow.
struct MaximumF {
  template <typename T>
  T operator()(T a, T b) const {
    return (a < b || IsNan(b)) ? b : a;
  }
};
struct MinimumF {
  template <typename T>
  T operator()(T a, T b) const {
    return (b < a || IsNan(b)) ? b : a;
  }
};
struct EqualF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a == b;
  }
};
struct NotEqualF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a != b;
  }
};
struct LessF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a < b;
  }
};
struct LessEqualF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct GreaterF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a > b;
  }
};
struct GreaterEqualF {
  template <typename T>
  bool operator()(T a, T b) const {
    return a >= b;
  }
};

// The output buffer: the first candidate input that has the output's shape
// and dtype and no other holder is reused in place.
Tensor* ForwardOrAllocate(OpKernelContext* ctx, std::initializer_list<int> candidates,
                          const TensorShape& shape) {
  for (int i : candidates) {
    const Tensor& t = ctx->input(i);
    if (t.shape() == shape && t.dtype() == ctx->node().output_dtype(0) && t.RefCountIsOne()) {
      return ctx->forward_input_or_allocate_output(i, 0, shape);
    }
  }
  return ctx->allocate_output(0, shape);
}

// One row: the inner strides are 1 (walks) or 0 (broadcast).
template <typename F, typename T, typename Out>
inline void BinaryRow(Out* o, const T* x, const T* y, int64_t n, int64_t sx, int64_t sy) {
  F f;
  if (sx == 1 && sy == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
  } else if (sx == 1) {
    const T b = y[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], b);
  } else if (sy == 1) {
    const T a = x[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a, y[i]);
  } else {
    const Out v = f(x[0], y[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <typename T, typename Out, typename F>
class BinaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    if constexpr (std::is_same_v<F, DivF> && std::is_integral_v<T>) {
      const T* yp = y.data<T>();
      for (int64_t i = 0; i < y.NumElements(); ++i) {
        OP_REQUIRES(
            ctx, yp[i] != 0,
            absl::InvalidArgumentError(absl::StrCat("integer division by zero (divisor element ", i,
                                                    " of ", y.shape().DebugString(), " is 0)")));
      }
    }
    const TensorShape shapes[2] = {x.shape(), y.shape()};
    absl::StatusOr<BroadcastPlan> plan = MakeBroadcastPlan(shapes);
    OP_REQUIRES_OK(ctx, plan.status());
    Tensor* out = ForwardOrAllocate(ctx, {0, 1}, plan->output_shape);
    if (out->NumElements() == 0) return;
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    Out* op = out->data<Out>();
    const int64_t sx = plan->row_stride(0), sy = plan->row_stride(1);
    ForEachBroadcastRow<2>(*plan, [&](int64_t o, const std::array<int64_t, 2>& in, int64_t n) {
      BinaryRow<F>(op + o, xp + in[0], yp + in[1], n, sx, sy);
    });
  }
};

#define REGISTER_BINARY(name, F, T, Out) \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(name).TypeConstraint<T>("T"), BinaryOp<T, Out, F>)
#define REGISTER_ARITH(name, F)               \
  REGISTER_BINARY(name, F, float, float);     \
  REGISTER_BINARY(name, F, double, double);   \
  REGISTER_BINARY(name, F, int32_t, int32_t); \
  REGISTER_BINARY(name, F, int64_t, int64_t)
#define REGISTER_COMPARE(name, F)          \
  REGISTER_BINARY(name, F, float, bool);   \
  REGISTER_BINARY(name, F, double, bool);  \
  REGISTER_BINARY(name, F, int32_t, bool); \
  REGISTER_BINARY(name, F, int64_t, bool)

REGISTER_ARITH("Add", AddF);
REGISTER_ARITH("Sub", SubF);
REGISTER_ARITH("Mul", MulF);
REGISTER_ARITH("Div", DivF);
REGISTER_ARITH("Maximum", MaximumF);
REGISTER_ARITH("Minimum", MinimumF);
REGISTER_BINARY("Pow", PowF, float, float);
REGISTER_BINARY("Pow", PowF, double, double);
REGISTER_COMPARE("Equal", EqualF);
REGISTER_COMPARE("NotEqual", NotEqualF);
REGISTER_COMPARE("Less", LessF);
REGISTER_COMPARE("LessEqual", LessEqualF);
REGISTER_COMPARE("Greater", GreaterF);
REGISTER_COMPARE("GreaterEqual", GreaterEqualF);
REGISTER_BINARY("Equal", EqualF, bool, bool);
REGISTER_BINARY("NotEqual", NotEqualF, bool, bool);

template <typename T>
class SelectOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    const TensorShape shapes[3] = {cond.shape(), t.shape(), e.shape()};
    absl::StatusOr<BroadcastPlan> plan = MakeBroadcastPlan(shapes);
    OP_REQUIRES_OK(ctx, plan.status());
    Tensor* out = ForwardOrAllocate(ctx, {1, 2}, plan->output_shape);
    if (out->NumElements() == 0) return;
    const bool* cp = cond.data<bool>();
    const T* tp = t.data<T>();
    const T* ep = e.data<T>();
    T* op = out->data<T>();
    const int64_t sc = plan->row_stride(0), st = plan->row_stride(1), se = plan->row_stride(2);
    ForEachBroadcastRow<3>(*plan, [&](int64_t o, const std::array<int64_t, 3>& in, int64_t n) {
      const bool* c = cp + in[0];
      const T* a = tp + in[1];
      const T* b = ep + in[2];
      T* dst = op + o;
      if (sc == 1 && st == 1 && se == 1) {
        // Both loads unconditional, so the compiler can blend vectors.
        for (int64_t i = 0; i < n; ++i) {
          const T av = a[i], bv = b[i];
          dst[i] = c[i] ? av : bv;
        }
      } else {
        for (int64_t i = 0; i < n; ++i) dst[i] = c[i * sc] ? a[i * st] : b[i * se];
      }
    });
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SelectV2").TypeConstraint<float>("T"), SelectOp<float>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SelectV2").TypeConstraint<double>("T"), SelectOp<double>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SelectV2").TypeConstraint<int32_t>("T"), SelectOp<int32_t>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SelectV2").TypeConstraint<int64_t>("T"), SelectOp<int64_t>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SelectV2").TypeConstraint<bool>("T"), SelectOp<bool>);

}  // namespace
}  // namespace braid
