// Kernels of the core ops (graph/ops/core_ops.cc).
#include "absl/strings/str_cat.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

class ConstOp : public OpKernel {
 public:
  explicit ConstOp(OpKernelConstruction* c) : OpKernel(c) { OP_ATTR(c, Tensor, "value", value_); }
  void Compute(OpKernelContext* ctx) override { ctx->set_output(0, value_); }
  bool IsExpensive() const override { return false; }

 private:
  Tensor value_;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Const"), ConstOp);

class PlaceholderOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    ctx->SetStatus(absl::InvalidArgumentError("a placeholder must be fed a value"));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Placeholder"), PlaceholderOp);

// Identity and StopGradient pass the tensor through without a copy.
class PassThroughOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override { ctx->set_output(0, ctx->release_input(0)); }
  bool IsExpensive() const override { return false; }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Identity"), PassThroughOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("StopGradient"), PassThroughOp);

class NoOpOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext*) override {}
  bool IsExpensive() const override { return false; }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("NoOp"), NoOpOp);

template <typename T>
class AddNOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const TensorShape& shape = ctx->input(0).shape();
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      OP_REQUIRES(ctx, ctx->input(i).shape() == shape,
                  absl::InvalidArgumentError(absl::StrCat(
                      "AddN inputs must have equal shapes; input 0 is ", shape.DebugString(),
                      ", input ", i, " is ", ctx->input(i).shape().DebugString())));
    }
    Tensor* out = ctx->forward_input_or_allocate_output(0, 0, shape);
    T* o = out->data<T>();
    const int64_t n = out->NumElements();
    if (!out->SharesBufferWith(ctx->input(0))) std::copy_n(ctx->input(0).data<T>(), n, o);
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      const T* x = ctx->input(i).data<T>();
      for (int64_t j = 0; j < n; ++j) o[j] += x[j];
    }
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("AddN").TypeConstraint<float>("T"), AddNOp<float>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AddN").TypeConstraint<double>("T"), AddNOp<double>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AddN").TypeConstraint<int32_t>("T"), AddNOp<int32_t>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AddN").TypeConstraint<int64_t>("T"), AddNOp<int64_t>);

template <int kValue>
class FillLikeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    Tensor* out = ctx->allocate_output(0, x.shape());
    bool ok = DispatchDType<float, double, int32_t, int64_t, uint8_t, bool>(
        x.dtype(), [&]<typename T>() { std::fill_n(out->data<T>(), out->NumElements(), T(kValue)); });
    if (!ok && x.dtype() == DType::kBFloat16) {
      std::fill_n(out->data<BFloat16>(), out->NumElements(), BFloat16(static_cast<float>(kValue)));
      ok = true;
    }
    OP_REQUIRES(ctx, ok,
                absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", DTypeName(x.dtype()))));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ZerosLike"), FillLikeOp<0>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("OnesLike"), FillLikeOp<1>);

}  // namespace
}  // namespace braid
