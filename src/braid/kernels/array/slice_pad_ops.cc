// Kernels of Slice and Pad (graph/ops/array_ops.cc), for any fixed-size
// dtype. Both copy contiguous rows between a tensor and a box inside a larger
// one; trailing dimensions the box spans fully join the row, so slicing rows
// of a matrix is one memcpy per row block.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// Copies the box (`box` dims, at `begin`) between a large tensor of `big`
// dims and a dense tensor of `box` dims. kIntoBox: big -> box (Slice);
// otherwise box -> big (Pad).
template <bool kIntoBox>
void CopyBox(const std::vector<int64_t>& big, const std::vector<int64_t>& begin,
             const std::vector<int64_t>& box, size_t esize, const char* src, char* dst) {
  const int r = static_cast<int>(big.size());
  // The row: the last dimension plus every trailing dimension the box fills.
  int first_row_dim = r - 1;
  while (first_row_dim > 0 && box[first_row_dim] == big[first_row_dim] &&
         begin[first_row_dim] == 0) {
    --first_row_dim;
  }
  if (r == 0) {
    std::memcpy(dst, src, esize);
    return;
  }
  int64_t row_bytes = static_cast<int64_t>(esize);
  for (int d = first_row_dim; d < r; ++d) row_bytes *= box[d];
  std::vector<int64_t> big_stride(r);
  int64_t s = static_cast<int64_t>(esize);
  for (int d = r - 1; d >= 0; --d) {
    big_stride[d] = s;
    s *= big[d];
  }
  int64_t base = 0;  // byte offset of the box's first element in big
  for (int d = 0; d < r; ++d) base += begin[d] * big_stride[d];
  int64_t rows = 1;
  for (int d = 0; d < first_row_dim; ++d) rows *= box[d];
  kernel_util::ParallelFor(rows, row_bytes / 4 + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      int64_t off = base, rem = row;
      for (int d = first_row_dim - 1; d >= 0; --d) {
        off += (rem % box[d]) * big_stride[d];
        rem /= box[d];
      }
      if constexpr (kIntoBox) {
        std::memcpy(dst + row * row_bytes, src + off, row_bytes);
      } else {
        std::memcpy(dst + off, src + row * row_bytes, row_bytes);
      }
    }
  });
}

class SliceOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const size_t esize = DTypeSize(x.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("Slice", x.dtype()));
    absl::StatusOr<std::vector<int64_t>> begin = kernel_util::IntValues(ctx->input(1), "begin");
    OP_REQUIRES_OK(ctx, begin.status());
    absl::StatusOr<std::vector<int64_t>> size = kernel_util::IntValues(ctx->input(2), "size");
    OP_REQUIRES_OK(ctx, size.status());
    absl::StatusOr<std::vector<int64_t>> sizes = SliceSizes(x.shape(), *begin, *size);
    OP_REQUIRES_OK(ctx, sizes.status());
    const TensorShape out_shape(*sizes);
    if (out_shape == x.shape()) {
      ctx->set_output(0, x);
      return;
    }
    Tensor* out = ctx->allocate_output(0, out_shape);
    if (out->NumElements() == 0) return;
    CopyBox<true>(x.shape().dims(), *begin, *sizes, esize, static_cast<const char*>(x.raw_data()),
                  static_cast<char*>(out->raw_data()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Slice"), SliceOp);

class PadOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& pads = ctx->input(1);
    const size_t esize = DTypeSize(x.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("Pad", x.dtype()));
    OP_REQUIRES(ctx, pads.shape() == TensorShape({x.rank(), 2}),
                absl::InvalidArgumentError(absl::StrCat("paddings must have shape [", x.rank(),
                                                        ",2] for input ", x.shape().DebugString(),
                                                        ", got ", pads.shape().DebugString())));
    absl::StatusOr<std::vector<int64_t>> p =
        kernel_util::IntValues(pads.Reshaped(TensorShape{2 * x.rank()}), "paddings");
    OP_REQUIRES_OK(ctx, p.status());
    std::vector<int64_t> before(x.rank()), out_dims(x.rank());
    for (int d = 0; d < x.rank(); ++d) {
      const int64_t b = (*p)[2 * d], a = (*p)[2 * d + 1];
      OP_REQUIRES(ctx, b >= 0 && a >= 0,
                  absl::InvalidArgumentError(
                      absl::StrCat("paddings must be >= 0, got [", absl::StrJoin(*p, ","), "]")));
      before[d] = b;
      out_dims[d] = x.dim(d) + b + a;
    }
    Tensor* out = ctx->allocate_output(0, TensorShape(out_dims));
    if (out->NumElements() == 0) return;
    // Zero bits are zero for every numeric dtype, bfloat16 and bool included.
    std::memset(out->raw_data(), 0, out->TotalBytes());
    if (x.NumElements() == 0) return;
    CopyBox<false>(out_dims, before, x.shape().dims(), esize,
                   static_cast<const char*>(x.raw_data()), static_cast<char*>(out->raw_data()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Pad"), PadOp);

}  // namespace
}  // namespace braid
