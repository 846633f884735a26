// The Transpose kernel (graph/ops/array_ops.cc), for any fixed-size dtype.
//
// Note [Transpose collapsing]
// Size-1 dimensions are dropped and input dimensions that stay adjacent and
// in order under perm are merged, so [N,H,W,C] -> [N,C,H,W] is a batch of
// [H*W, C] -> [C, H*W] matrix transposes. What remains is an identity (the
// buffer is shared), a copy of contiguous rows (innermost dimension kept),
// or a blocked 2-D transpose of the last two output dimensions per plane.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

struct Collapsed {
  std::vector<int64_t> in_dims;
  std::vector<int> perm;
};

Collapsed Collapse(const TensorShape& shape, const std::vector<int64_t>& perm) {
  // Output order of the non-trivial input dimensions.
  std::vector<int> order;
  for (int64_t p : perm)
    if (shape.dim(p) != 1) order.push_back(static_cast<int>(p));
  // Runs of consecutive input dimensions become one group each.
  std::vector<std::vector<int>> groups;
  for (int p : order) {
    if (!groups.empty() && groups.back().back() + 1 == p) {
      groups.back().push_back(p);
    } else {
      groups.push_back({p});
    }
  }
  // Groups sorted by their first input dimension give the new input order.
  std::vector<int> by_input(groups.size());
  std::iota(by_input.begin(), by_input.end(), 0);
  std::sort(by_input.begin(), by_input.end(),
            [&](int a, int b) { return groups[a][0] < groups[b][0]; });
  Collapsed c;
  c.in_dims.resize(groups.size());
  c.perm.resize(groups.size());
  std::vector<int> new_index(groups.size());
  for (size_t i = 0; i < by_input.size(); ++i) {
    int64_t size = 1;
    for (int d : groups[by_input[i]]) size *= shape.dim(d);
    c.in_dims[i] = size;
    new_index[by_input[i]] = static_cast<int>(i);
  }
  for (size_t g = 0; g < groups.size(); ++g) c.perm[g] = new_index[g];
  return c;
}

template <typename U>
void TransposeElements(const U* in, U* out, const Collapsed& c) {
  const int r = static_cast<int>(c.perm.size());
  std::vector<int64_t> in_stride(r, 1);
  for (int d = r - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * c.in_dims[d + 1];
  std::vector<int64_t> odims(r), ostride(r);  // output dims, their input strides
  for (int i = 0; i < r; ++i) {
    odims[i] = c.in_dims[c.perm[i]];
    ostride[i] = in_stride[c.perm[i]];
  }
  // Input offset of the first element of plane/row `index` over dims [0, n).
  auto offset_of = [&](int64_t index, int n) {
    int64_t off = 0;
    for (int d = n - 1; d >= 0; --d) {
      off += (index % odims[d]) * ostride[d];
      index /= odims[d];
    }
    return off;
  };
  if (ostride[r - 1] == 1) {  // rows stay contiguous
    const int64_t len = odims[r - 1];
    int64_t rows = 1;
    for (int d = 0; d < r - 1; ++d) rows *= odims[d];
    kernel_util::ParallelFor(rows, len, [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row) {
        std::memcpy(out + row * len, in + offset_of(row, r - 1), len * sizeof(U));
      }
    });
    return;
  }
  constexpr int64_t kTile = 32;
  const int64_t a_dim = odims[r - 2], b_dim = odims[r - 1];
  const int64_t sa = ostride[r - 2], sb = ostride[r - 1];
  int64_t planes = 1;
  for (int d = 0; d < r - 2; ++d) planes *= odims[d];
  const int64_t a_tiles = (a_dim + kTile - 1) / kTile;
  kernel_util::ParallelFor(planes * a_tiles, kTile * b_dim, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t plane = t / a_tiles, a0 = (t % a_tiles) * kTile;
      const int64_t a1 = std::min(a0 + kTile, a_dim);
      const U* src = in + offset_of(plane, r - 2);
      U* dst = out + plane * a_dim * b_dim;
      for (int64_t b0 = 0; b0 < b_dim; b0 += kTile) {
        const int64_t b1 = std::min(b0 + kTile, b_dim);
        for (int64_t a = a0; a < a1; ++a)
          for (int64_t b = b0; b < b1; ++b) dst[a * b_dim + b] = src[a * sa + b * sb];
      }
    }
  });
}

class TransposeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    OP_REQUIRES(ctx, ctx->input(1).rank() == 1,
                absl::InvalidArgumentError(absl::StrCat("perm must be a vector, got shape ",
                                                        ctx->input(1).shape().DebugString())));
    absl::StatusOr<std::vector<int64_t>> perm = kernel_util::IntValues(ctx->input(1), "perm");
    OP_REQUIRES_OK(ctx, perm.status());
    OP_REQUIRES(ctx, static_cast<int>(perm->size()) == x.rank(),
                absl::InvalidArgumentError(
                    absl::StrCat("perm has ", perm->size(), " entries but the input ",
                                 x.shape().DebugString(), " has rank ", x.rank())));
    OP_REQUIRES_OK(ctx, CheckPermutation(*perm, x.rank()));
    TensorShape out_shape;
    for (int64_t p : *perm) out_shape.AddDim(x.dim(static_cast<int>(p)));
    Collapsed c = Collapse(x.shape(), *perm);
    bool identity = true;
    for (size_t i = 0; i < c.perm.size(); ++i)
      identity = identity && c.perm[i] == static_cast<int>(i);
    if (identity || x.NumElements() == 0) {
      ctx->set_output(0, x.Reshaped(out_shape));
      return;
    }
    Tensor* out = ctx->allocate_output(0, out_shape);
    const bool ok = kernel_util::DispatchByElementSize(x.dtype(), [&]<typename U>() {
      TransposeElements(kernel_util::Elements<U>(x), kernel_util::MutableElements<U>(out), c);
    });
    OP_REQUIRES(ctx, ok, kernel_util::UnsupportedDType("Transpose", x.dtype()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Transpose"), TransposeOp);

}  // namespace
}  // namespace braid
