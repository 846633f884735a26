// MatMul through oneDNN's matmul primitive. Transposed operands are described
// by strides, so no copy is made.
#include <algorithm>

#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid::nn {
namespace {

class MatMulOp : public OpKernel {
 public:
  explicit MatMulOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_ATTR(ctx, bool, "transpose_a", transpose_a_);
    OP_ATTR(ctx, bool, "transpose_b", transpose_b_);
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
    Tensor* out = ctx->allocate_output(0, TensorShape{m, n});
    if (out->NumElements() == 0) return;
    if (k == 0) {
      std::fill_n(out->data<float>(), out->NumElements(), 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    absl::StatusOr<std::shared_ptr<const Entry>> entry = cache_.Get({m, k, n}, [&] {
      Entry e;
      // Row-major [m,k] is strides {k,1}; its transpose stored [k,m] is {1,m}.
      e.a = F32Desc({m, k}, transpose_a_ ? memory::dims{1, m} : memory::dims{k, 1});
      e.b = F32Desc({k, n}, transpose_b_ ? memory::dims{1, k} : memory::dims{n, 1});
      e.c = F32RowMajor({m, n});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e.a, e.b, e.c), CachedPrimitiveAttr(),
                                      engine);
      e.prim = MakePrimitive<dnnl::matmul>(pd);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                {{DNNL_ARG_SRC, Wrap(e.a, engine, a)},
                                 {DNNL_ARG_WEIGHTS, Wrap(e.b, engine, b)},
                                 {DNNL_ARG_DST, Wrap(e.c, engine, *out)}}));
  }

 private:
  struct Entry {
    memory::desc a, b, c;
    DnnlPrimitive prim;
  };
  bool transpose_a_ = false;
  bool transpose_b_ = false;
  PrimitiveCache<Entry> cache_;
};

BRAID_REGISTER_KERNEL(KernelDefBuilder("MatMul").TypeConstraint<float>("T"), MatMulOp);

}  // namespace
}  // namespace braid::nn
