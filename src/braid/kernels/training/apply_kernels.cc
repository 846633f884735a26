// Kernels of the optimizer update ops. Each locks its variables (in a fixed
// order, so two updates never deadlock), checks shapes, and updates in place.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "braid/kernels/op_kernel.h"
#include "braid/kernels/state/variable_kernels.h"
#include "braid/kernels/vector_loop.h"

namespace braid {
namespace {

// Inputs [0, num_vars) are variable handles; one of the rest is the gradient
// ("grad", or "delta" for plain gradient descent) and the others are scalar
// hyperparameters, passed to Update in signature order.
template <typename T, int kNumVars>
class ApplyKernel : public OpKernel {
 public:
  explicit ApplyKernel(OpKernelConstruction* c) : OpKernel(c) {
    const auto& args = c->node().op_def().inputs;
    for (size_t i = 0; i < args.size(); ++i)
      if (args[i].name == "grad" || args[i].name == "delta") grad_index_ = static_cast<int>(i);
    OP_REQUIRES(c, grad_index_ >= kNumVars,
                absl::InternalError("update op without a grad input"));
  }

  void Compute(OpKernelContext* ctx) override {
    std::shared_ptr<VariableResource> vars[kNumVars];
    for (int i = 0; i < kNumVars; ++i) {
      auto v = LookupVariable(ctx, i);
      OP_REQUIRES_OK(ctx, v.status());
      vars[i] = *v;
    }
    std::vector<VariableResource*> order;
    for (auto& v : vars)
      if (std::find(order.begin(), order.end(), v.get()) == order.end()) order.push_back(v.get());
    std::sort(order.begin(), order.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    for (VariableResource* v : order) locks.emplace_back(v->mu());

    const Tensor& grad = ctx->input(grad_index_);
    T* data[kNumVars];
    for (int i = 0; i < kNumVars; ++i) {
      OP_REQUIRES(ctx, vars[i]->initialized(), UninitializedError(ctx, i));
      Tensor* t = vars[i]->MutableTensor();
      OP_REQUIRES(ctx, t->shape() == grad.shape(),
                  absl::InvalidArgumentError(absl::StrCat(
                      "variable '", ctx->input(i).data<ResourceHandle>()[0].name, "' has shape ",
                      t->shape().DebugString(), " but the gradient has shape ",
                      grad.shape().DebugString())));
      OP_REQUIRES(ctx, t->dtype() == grad.dtype(),
                  absl::InvalidArgumentError("variable and gradient dtypes differ"));
      data[i] = t->data<T>();
    }
    std::vector<T> scalars;
    for (int i = kNumVars; i < ctx->num_inputs(); ++i) {
      if (i == grad_index_) continue;
      OP_REQUIRES(ctx, ctx->input(i).NumElements() == 1,
                  absl::InvalidArgumentError(absl::StrCat(
                      "hyperparameter input ", i, " must be a scalar, got shape ",
                      ctx->input(i).shape().DebugString())));
      scalars.push_back(ctx->input(i).data<T>()[0]);
    }
    Update(data, scalars.data(), grad.data<T>(), grad.NumElements());
  }

 protected:
  virtual void Update(T* const* vars, const T* h, const T* g, int64_t n) = 0;

 private:
  int grad_index_ = -1;
};

template <typename T>
class GradientDescentOp : public ApplyKernel<T, 1> {
 public:
  using ApplyKernel<T, 1>::ApplyKernel;
  void Update(T* const* v, const T* h, const T* g, int64_t n) override {
    const T alpha = h[0];
    ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
      T* __restrict var = v[0];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) var[i] -= alpha * g[i];
    });
  }
};

template <typename T>
class MomentumOp : public ApplyKernel<T, 2> {
 public:
  explicit MomentumOp(OpKernelConstruction* c) : ApplyKernel<T, 2>(c) {
    OP_ATTR(c, bool, "use_nesterov", nesterov_);
  }
  void Update(T* const* v, const T* h, const T* g, int64_t n) override {
    const T lr = h[0], momentum = h[1];
    const bool nesterov = nesterov_;
    ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
      T* __restrict var = v[0];
      T* __restrict accum = v[1];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) {
        accum[i] = accum[i] * momentum + g[i];
        var[i] -= nesterov ? g[i] * lr + accum[i] * momentum * lr : lr * accum[i];
      }
    });
  }

 private:
  bool nesterov_ = false;
};

template <typename T>
class AdamOp : public ApplyKernel<T, 3> {
 public:
  using ApplyKernel<T, 3>::ApplyKernel;
  void Update(T* const* v, const T* h, const T* g, int64_t n) override {
    const T beta1_power = h[0], beta2_power = h[1], lr = h[2], beta1 = h[3], beta2 = h[4],
            epsilon = h[5];
    const T lr_t = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
    ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
      T* __restrict var = v[0];
      T* __restrict m = v[1];
      T* __restrict s = v[2];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) {
        m[i] += (g[i] - m[i]) * (T(1) - beta1);
        s[i] += (g[i] * g[i] - s[i]) * (T(1) - beta2);
        var[i] -= lr_t * m[i] / (std::sqrt(s[i]) + epsilon);
      }
    });
  }
};

template <typename T>
class AdagradOp : public ApplyKernel<T, 2> {
 public:
  using ApplyKernel<T, 2>::ApplyKernel;
  void Update(T* const* v, const T* h, const T* g, int64_t n) override {
    const T lr = h[0], epsilon = h[1];
    ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
      T* __restrict var = v[0];
      T* __restrict accum = v[1];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) {
        accum[i] += g[i] * g[i];
        var[i] -= lr * g[i] / (std::sqrt(accum[i]) + epsilon);
      }
    });
  }
};

template <typename T>
class RMSPropOp : public ApplyKernel<T, 3> {
 public:
  using ApplyKernel<T, 3>::ApplyKernel;
  void Update(T* const* v, const T* h, const T* g, int64_t n) override {
    const T lr = h[0], rho = h[1], momentum = h[2], epsilon = h[3];
    ForEachRange(n, [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
      T* __restrict var = v[0];
      T* __restrict ms = v[1];
      T* __restrict mom = v[2];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) {
        ms[i] = rho * ms[i] + (T(1) - rho) * g[i] * g[i];
        mom[i] = momentum * mom[i] + lr * g[i] / std::sqrt(ms[i] + epsilon);
        var[i] -= mom[i];
      }
    });
  }
};

#define REGISTER_APPLY(op, kernel)                                                    \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(op).TypeConstraint<float>("T"), kernel<float>); \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(op).TypeConstraint<double>("T"), kernel<double>)
REGISTER_APPLY("ResourceApplyGradientDescent", GradientDescentOp);
REGISTER_APPLY("ResourceApplyMomentum", MomentumOp);
REGISTER_APPLY("ResourceApplyAdam", AdamOp);
REGISTER_APPLY("ResourceApplyAdagradV2", AdagradOp);
REGISTER_APPLY("ResourceApplyRMSProp", RMSPropOp);
#undef REGISTER_APPLY

}  // namespace
}  // namespace braid
