// Kernels of the unary element-wise ops (graph/ops/math_ops.cc): one loop
// template over a functor, writing in place when the input is not shared.
// Transcendental functions of float and double go through Eigen's array
// expressions, which evaluate them several lanes at a time; the rest are
// plain loops the compiler vectorizes.
#include <Eigen/Core>
#include <cmath>
#include <type_traits>

#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// kCost: rough cost of one element relative to an add, to decide when a loop
// is worth spreading over threads.
struct NegF {
  static constexpr int kCost = 1;
  template <typename T>
  T operator()(T x) const {
    return -x;
  }
};
struct AbsF {
  static constexpr int kCost = 1;
  template <typename T>
  T operator()(T x) const {
    return x < T(0) ? -x : x;
  }
};
struct SquareF {
  static constexpr int kCost = 1;
  template <typename T>
  T operator()(T x) const {
    return x * x;
  }
};
struct SqrtF {
  static constexpr int kCost = 4;
  template <typename T>
  T operator()(T x) const {
    return std::sqrt(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.sqrt();
  }
};
struct RsqrtF {
  static constexpr int kCost = 4;
  template <typename T>
  T operator()(T x) const {
    return T(1) / std::sqrt(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.rsqrt();
  }
};
struct ReciprocalF {
  static constexpr int kCost = 2;
  template <typename T>
  T operator()(T x) const {
    return T(1) / x;
  }
};
struct ExpF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return std::exp(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.exp();
  }
};
struct LogF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return std::log(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.log();
  }
};
struct SinF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return std::sin(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.sin();
  }
};
struct CosF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return std::cos(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.cos();
  }
};
struct FloorF {
  static constexpr int kCost = 1;
  template <typename T>
  T operator()(T x) const {
    return std::floor(x);
  }
};
// exp(-x) overflowing to inf for very negative x still gives the right 0.
struct SigmoidF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return T(1) / (T(1) + std::exp(-x));
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.logistic();
  }
};
struct TanhF {
  static constexpr int kCost = 16;
  template <typename T>
  T operator()(T x) const {
    return std::tanh(x);
  }
  template <typename A>
  static auto Array(const A& a) {
    return a.tanh();
  }
};
struct SignF {
  static constexpr int kCost = 1;
  template <typename T>
  T operator()(T x) const {
    return static_cast<T>((T(0) < x) - (x < T(0)));
  }
};

template <typename T, typename F>
class UnaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    Tensor* out = ctx->forward_input_or_allocate_output(0, 0, x.shape());
    const T* xp = x.data<T>();
    T* op = out->data<T>();
    kernel_util::ParallelFor(x.NumElements(), F::kCost, [&](int64_t begin, int64_t end) {
      using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
      if constexpr (requires { F::Array(Eigen::Map<const Array>(xp, 1)); }) {
        Eigen::Map<Array>(op + begin, end - begin) =
            F::Array(Eigen::Map<const Array>(xp + begin, end - begin));
      } else {
        F f;
        for (int64_t i = begin; i < end; ++i) op[i] = f(xp[i]);
      }
    });
  }
};

#define REGISTER_UNARY(name, F, T) \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(name).TypeConstraint<T>("T"), UnaryOp<T, F>)
#define REGISTER_FLOAT_UNARY(name, F) \
  REGISTER_UNARY(name, F, float);     \
  REGISTER_UNARY(name, F, double)
#define REGISTER_SIGNED_UNARY(name, F) \
  REGISTER_FLOAT_UNARY(name, F);       \
  REGISTER_UNARY(name, F, int32_t);    \
  REGISTER_UNARY(name, F, int64_t)

REGISTER_SIGNED_UNARY("Neg", NegF);
REGISTER_SIGNED_UNARY("Abs", AbsF);
REGISTER_SIGNED_UNARY("Square", SquareF);
REGISTER_SIGNED_UNARY("Sign", SignF);
REGISTER_FLOAT_UNARY("Sqrt", SqrtF);
REGISTER_FLOAT_UNARY("Rsqrt", RsqrtF);
REGISTER_FLOAT_UNARY("Reciprocal", ReciprocalF);
REGISTER_FLOAT_UNARY("Exp", ExpF);
REGISTER_FLOAT_UNARY("Log", LogF);
REGISTER_FLOAT_UNARY("Sin", SinF);
REGISTER_FLOAT_UNARY("Cos", CosF);
REGISTER_FLOAT_UNARY("Floor", FloorF);
REGISTER_FLOAT_UNARY("Sigmoid", SigmoidF);
REGISTER_FLOAT_UNARY("Tanh", TanhF);

}  // namespace
}  // namespace braid
