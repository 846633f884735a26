// Kernels of Tile and BroadcastTo (graph/ops/array_ops.cc), for any
// fixed-size dtype.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/kernels/math/broadcast.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// Tiles one block: fills the first copy of dimension `level` recursively,
// then repeats that whole block multiples[level] - 1 times with memcpy.
void TileLevel(int level, const std::vector<int64_t>& in_dims, const std::vector<int64_t>& mult,
               const std::vector<int64_t>& in_stride, const std::vector<int64_t>& out_stride,
               const char* src, char* dst) {
  const int r = static_cast<int>(in_dims.size());
  const int64_t block = in_dims[level] * out_stride[level];  // bytes of one copy
  if (level == r - 1) {
    std::memcpy(dst, src, block);
  } else {
    for (int64_t i = 0; i < in_dims[level]; ++i) {
      TileLevel(level + 1, in_dims, mult, in_stride, out_stride, src + i * in_stride[level],
                dst + i * out_stride[level]);
    }
  }
  for (int64_t k = 1; k < mult[level]; ++k) std::memcpy(dst + k * block, dst, block);
}

class TileOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const size_t esize = DTypeSize(x.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("Tile", x.dtype()));
    absl::StatusOr<std::vector<int64_t>> m = kernel_util::IntValues(ctx->input(1), "multiples");
    OP_REQUIRES_OK(ctx, m.status());
    OP_REQUIRES(ctx, static_cast<int>(m->size()) == x.rank(),
                absl::InvalidArgumentError(absl::StrCat("multiples [", absl::StrJoin(*m, ","),
                                                        "] must have one entry per dimension of ",
                                                        x.shape().DebugString())));
    std::vector<int64_t> out_dims(x.rank());
    for (int d = 0; d < x.rank(); ++d) {
      OP_REQUIRES(ctx, (*m)[d] >= 0,
                  absl::InvalidArgumentError(
                      absl::StrCat("multiples must be >= 0, got [", absl::StrJoin(*m, ","), "]")));
      out_dims[d] = x.dim(d) * (*m)[d];
    }
    Tensor* out = ctx->allocate_output(0, TensorShape(out_dims));
    if (out->NumElements() == 0) return;
    if (x.rank() == 0) {
      std::memcpy(out->raw_data(), x.raw_data(), esize);
      return;
    }
    const int r = x.rank();
    std::vector<int64_t> in_stride(r), out_stride(r);
    int64_t si = static_cast<int64_t>(esize), so = static_cast<int64_t>(esize);
    for (int d = r - 1; d >= 0; --d) {
      in_stride[d] = si;
      out_stride[d] = so;
      si *= x.dim(d);
      so *= out_dims[d];
    }
    TileLevel(0, x.shape().dims(), *m, in_stride, out_stride,
              static_cast<const char*>(x.raw_data()), static_cast<char*>(out->raw_data()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Tile"), TileOp);

class BroadcastToOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::StatusOr<TensorShape> target = kernel_util::ShapeFromTensor(ctx->input(1), "shape");
    OP_REQUIRES_OK(ctx, target.status());
    if (x.shape() == *target) {
      ctx->set_output(0, x);
      return;
    }
    const TensorShape shapes[2] = {x.shape(), *target};
    absl::StatusOr<BroadcastPlan> plan = MakeBroadcastPlan(shapes);
    OP_REQUIRES(ctx, plan.ok() && plan->output_shape == *target,
                absl::InvalidArgumentError(absl::StrCat(
                    "cannot broadcast ", x.shape().DebugString(), " to ", target->DebugString())));
    Tensor* out = ctx->allocate_output(0, *target);
    if (out->NumElements() == 0) return;
    const bool ok = kernel_util::DispatchByElementSize(x.dtype(), [&]<typename U>() {
      const U* in = kernel_util::Elements<U>(x);
      U* o = kernel_util::MutableElements<U>(out);
      const bool walks = plan->row_stride(0) == 1;
      ForEachBroadcastRow<1>(*plan, [&](int64_t off, const std::array<int64_t, 1>& src, int64_t n) {
        if (walks) {
          std::memcpy(o + off, in + src[0], n * sizeof(U));
        } else {
          std::fill_n(o + off, n, in[src[0]]);
        }
      });
    });
    OP_REQUIRES(ctx, ok, kernel_util::UnsupportedDType("BroadcastTo", x.dtype()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("BroadcastTo"), BroadcastToOp);

}  // namespace
}  // namespace braid
