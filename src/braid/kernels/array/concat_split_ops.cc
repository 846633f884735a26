// Kernels of ConcatV2 and Split (graph/ops/array_ops.cc), for any
// fixed-size dtype. Both see their tensors as [outer, axis * inner] and move
// one contiguous chunk per input (output) and outer index.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// Bytes per outer index of `shape` cut at `axis`.
struct Layout {
  int64_t outer = 1;
  int64_t inner_bytes = 1;  // bytes of one step along the axis
};
Layout LayoutAt(const TensorShape& shape, int axis, size_t element_size) {
  Layout l;
  l.inner_bytes = static_cast<int64_t>(element_size);
  for (int d = 0; d < shape.rank(); ++d) {
    if (d < axis) l.outer *= shape.dim(d);
    if (d > axis) l.inner_bytes *= shape.dim(d);
  }
  return l;
}

class ConcatOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const int n = ctx->num_inputs() - 1;
    const Tensor& first = ctx->input(0);
    const size_t esize = DTypeSize(first.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("ConcatV2", first.dtype()));
    absl::StatusOr<int64_t> axis = kernel_util::IntScalar(ctx->input(n), "axis");
    OP_REQUIRES_OK(ctx, axis.status());
    OP_REQUIRES(ctx, first.rank() > 0,
                absl::InvalidArgumentError("cannot concatenate scalars; reshape them to [1]"));
    absl::StatusOr<int> a = NormalizeAxis(*axis, first.rank());
    OP_REQUIRES_OK(ctx, a.status());
    TensorShape out_shape = first.shape();
    int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      const TensorShape& s = ctx->input(i).shape();
      bool match = s.rank() == first.rank();
      for (int d = 0; match && d < s.rank(); ++d) match = d == *a || s.dim(d) == first.dim(d);
      OP_REQUIRES(ctx, match,
                  absl::InvalidArgumentError(absl::StrCat(
                      "input ", i, " has shape ", s.DebugString(), " but input 0 has shape ",
                      first.shape().DebugString(), "; only axis ", *a, " may differ")));
      total += s.dim(*a);
    }
    out_shape.set_dim(*a, total);
    if (n == 1) {
      ctx->set_output(0, first);
      return;
    }
    Tensor* out = ctx->allocate_output(0, out_shape);
    if (out->NumElements() == 0) return;
    const Layout out_layout = LayoutAt(out_shape, *a, esize);
    const int64_t out_row = out_layout.inner_bytes * total;
    std::vector<const char*> src(n);
    std::vector<int64_t> chunk(n), offset(n);
    int64_t off = 0;
    for (int i = 0; i < n; ++i) {
      src[i] = static_cast<const char*>(ctx->input(i).raw_data());
      chunk[i] = out_layout.inner_bytes * ctx->input(i).dim(*a);
      offset[i] = off;
      off += chunk[i];
    }
    char* dst = static_cast<char*>(out->raw_data());
    kernel_util::ParallelFor(out_layout.outer, out_row / 4 + 1, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        for (int i = 0; i < n; ++i) {
          if (chunk[i] > 0)
            std::memcpy(dst + o * out_row + offset[i], src[i] + o * chunk[i], chunk[i]);
        }
      }
    });
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ConcatV2"), ConcatOp);

class SplitOp : public OpKernel {
 public:
  explicit SplitOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, int64_t, "num_split", num_split_);
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(1);
    const size_t esize = DTypeSize(x.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("Split", x.dtype()));
    absl::StatusOr<int64_t> axis = kernel_util::IntScalar(ctx->input(0), "split_dim");
    OP_REQUIRES_OK(ctx, axis.status());
    absl::StatusOr<int> a = NormalizeAxis(*axis, x.rank());
    OP_REQUIRES_OK(ctx, a.status());
    OP_REQUIRES(ctx, num_split_ >= 1 && x.dim(*a) % num_split_ == 0,
                absl::InvalidArgumentError(
                    absl::StrCat("dimension ", *a, " of ", x.shape().DebugString(),
                                 " is not divisible into ", num_split_, " equal pieces")));
    if (num_split_ == 1) {
      ctx->set_output(0, x);
      return;
    }
    TensorShape piece = x.shape();
    piece.set_dim(*a, x.dim(*a) / num_split_);
    const Layout layout = LayoutAt(x.shape(), *a, esize);
    const int64_t chunk = layout.inner_bytes * piece.dim(*a);
    const int64_t in_row = chunk * num_split_;
    const char* src = static_cast<const char*>(x.raw_data());
    for (int k = 0; k < num_split_; ++k) {
      Tensor* out = ctx->allocate_output(k, piece);
      if (chunk == 0) continue;
      char* dst = static_cast<char*>(out->raw_data());
      kernel_util::ParallelFor(layout.outer, chunk / 4 + 1, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) {
          std::memcpy(dst + o * chunk, src + o * in_row + k * chunk, chunk);
        }
      });
    }
  }

 private:
  int64_t num_split_ = 1;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Split"), SplitOp);

}  // namespace
}  // namespace braid
