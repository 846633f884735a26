// MatMul through oneDNN's matmul primitive, and _FusedMatMul (MatMul +
// BiasAdd [+ Relu], the bias and ReLU applied by the same primitive as it
// writes the product). Transposed operands are described by strides, so no
// copy is made.
#include <algorithm>
#include <optional>

#include "braid/graph/ops/nn_op_util.h"
#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid::nn {
namespace {

class MatMulOp : public OpKernel {
 public:
  explicit MatMulOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_ATTR(ctx, bool, "transpose_a", transpose_a_);
    OP_ATTR(ctx, bool, "transpose_b", transpose_b_);
    if (ctx->node().op() != "_FusedMatMul") return;
    absl::StatusOr<FusedOps> fused = ParseFusedOps(ctx->node().attrs());
    if (!fused.ok()) {
      ctx->SetStatus(fused.status());
      return;
    }
    fused_ = *fused;
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    OP_REQUIRES(ctx, a.rank() == 2 && b.rank() == 2,
                absl::InvalidArgumentError(absl::StrCat(
                    "MatMul needs 2-D inputs, got a ", ShapeString(a), " and b ", ShapeString(b))));
    const int64_t m = a.dim(transpose_a_ ? 1 : 0);
    const int64_t k = a.dim(transpose_a_ ? 0 : 1);
    const int64_t n = b.dim(transpose_b_ ? 0 : 1);
    OP_REQUIRES(ctx, b.dim(transpose_b_ ? 1 : 0) == k,
                absl::InvalidArgumentError(
                    absl::StrCat("inner dimensions differ: a is ", ShapeString(a), ", b is ",
                                 ShapeString(b), " (transpose_a=", transpose_a_ ? "true" : "false",
                                 ", transpose_b=", transpose_b_ ? "true" : "false", ")")));
    const Tensor* bias = fused_ ? &ctx->input(2) : nullptr;
    if (bias != nullptr) {
      OP_REQUIRES(ctx, bias->shape() == TensorShape{n},
                  absl::InvalidArgumentError(absl::StrCat("bias must be a vector of ", n,
                                                          " (the product's columns), got ",
                                                          ShapeString(*bias))));
    }
    Tensor* out = ctx->allocate_output(0, TensorShape{m, n});
    if (out->NumElements() == 0) return;
    if (k == 0) {
      FillWithBias(bias, fused_ && fused_->relu, out);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    absl::StatusOr<std::shared_ptr<const Entry>> entry = cache_.Get({m, k, n}, [&] {
      Entry e;
      // Row-major [m,k] is strides {k,1}; its transpose stored [k,m] is {1,m}.
      e.a = F32Desc({m, k}, transpose_a_ ? memory::dims{1, m} : memory::dims{k, 1});
      e.b = F32Desc({k, n}, transpose_b_ ? memory::dims{1, k} : memory::dims{n, 1});
      e.c = F32RowMajor({m, n});
      // The bias is broadcast over the rows: [1, n].
      if (fused_) e.bias = F32RowMajor({1, n});
      dnnl::matmul::primitive_desc pd(
          fused_ ? dnnl::matmul::desc(e.a, e.b, e.bias, e.c) : dnnl::matmul::desc(e.a, e.b, e.c),
          CachedPrimitiveAttr(fused_ && fused_->relu), engine);
      e.prim = MakePrimitive<dnnl::matmul>(pd);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    if (bias == nullptr) {
      OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                  {{DNNL_ARG_SRC, Wrap(e.a, engine, a)},
                                   {DNNL_ARG_WEIGHTS, Wrap(e.b, engine, b)},
                                   {DNNL_ARG_DST, Wrap(e.c, engine, *out)}}));
    } else {
      OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                  {{DNNL_ARG_SRC, Wrap(e.a, engine, a)},
                                   {DNNL_ARG_WEIGHTS, Wrap(e.b, engine, b)},
                                   {DNNL_ARG_BIAS, Wrap(e.bias, engine, *bias)},
                                   {DNNL_ARG_DST, Wrap(e.c, engine, *out)}}));
    }
  }

 private:
  struct Entry {
    memory::desc a, b, bias, c;
    DnnlPrimitive prim;
  };
  bool transpose_a_ = false;
  bool transpose_b_ = false;
  std::optional<FusedOps> fused_;  // set for _FusedMatMul
  PrimitiveCache<Entry> cache_;
};

BRAID_REGISTER_KERNEL(KernelDefBuilder("MatMul").TypeConstraint<float>("T"), MatMulOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("_FusedMatMul").TypeConstraint<float>("T"), MatMulOp);

}  // namespace
}  // namespace braid::nn
