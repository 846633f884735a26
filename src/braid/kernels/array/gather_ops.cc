// Kernels of GatherV2, UnsortedSegmentSum and OneHot
// (graph/ops/array_ops.cc). Indices are checked in a first pass so that an
// error names the first bad index deterministically; the copies then run in
// parallel.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// "[1,0]": the multi-index of flat position `i` in `shape`.
std::string IndexString(const TensorShape& shape, int64_t i) {
  std::vector<int64_t> idx(shape.rank());
  for (int d = shape.rank() - 1; d >= 0; --d) {
    idx[d] = i % shape.dim(d);
    i /= shape.dim(d);
  }
  return absl::StrCat("[", absl::StrJoin(idx, ","), "]");
}

// Index values (int32, int64 or uint8) widened to int64.
absl::StatusOr<std::vector<int64_t>> ReadIndices(const Tensor& t, absl::string_view what) {
  std::vector<int64_t> v(t.NumElements());
  if (t.dtype() == DType::kInt32) {
    std::copy_n(t.data<int32_t>(), v.size(), v.begin());
  } else if (t.dtype() == DType::kInt64) {
    std::copy_n(t.data<int64_t>(), v.size(), v.begin());
  } else if (t.dtype() == DType::kUInt8) {
    std::copy_n(t.data<uint8_t>(), v.size(), v.begin());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be int32 or int64, got ", DTypeName(t.dtype())));
  }
  return v;
}

// The indices of `t`, each checked against [0, limit).
absl::StatusOr<std::vector<int64_t>> CheckedIndices(const Tensor& t, int64_t limit,
                                                    absl::string_view what) {
  absl::StatusOr<std::vector<int64_t>> v = ReadIndices(t, what);
  if (!v.ok()) return v.status();
  for (size_t i = 0; i < v->size(); ++i) {
    if ((*v)[i] < 0 || (*v)[i] >= limit) {
      return absl::InvalidArgumentError(absl::StrCat(what, IndexString(t.shape(), i), " = ",
                                                     (*v)[i], " is not in [0, ", limit, ")"));
    }
  }
  return v;
}

class GatherOp : public OpKernel {
 public:
  explicit GatherOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, int64_t, "batch_dims", batch_dims_);
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& params = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    const size_t esize = DTypeSize(params.dtype());
    OP_REQUIRES(ctx, esize > 0, kernel_util::UnsupportedDType("GatherV2", params.dtype()));
    absl::StatusOr<int64_t> axis_value = kernel_util::IntScalar(ctx->input(2), "axis");
    OP_REQUIRES_OK(ctx, axis_value.status());
    OP_REQUIRES(ctx, params.rank() > 0,
                absl::InvalidArgumentError("params must have rank >= 1, got a scalar"));
    absl::StatusOr<int> axis = NormalizeAxis(*axis_value, params.rank());
    OP_REQUIRES_OK(ctx, axis.status());
    int64_t b = batch_dims_ < 0 ? batch_dims_ + indices.rank() : batch_dims_;
    OP_REQUIRES(ctx, b >= 0 && b <= indices.rank() && b <= *axis,
                absl::InvalidArgumentError(absl::StrCat("batch_dims ", batch_dims_,
                                                        " must lie in [0, min(indices rank ",
                                                        indices.rank(), ", axis ", *axis, ")]")));
    int64_t batch = 1, outer = 1, n = 1, inner = 1;
    TensorShape out_shape;
    for (int d = 0; d < b; ++d) {
      OP_REQUIRES(ctx, params.dim(d) == indices.dim(d),
                  absl::InvalidArgumentError(absl::StrCat(
                      "batch dimension ", d, " differs: params ", params.shape().DebugString(),
                      ", indices ", indices.shape().DebugString())));
      batch *= params.dim(d);
    }
    for (int d = 0; d < *axis; ++d) {
      out_shape.AddDim(params.dim(d));
      if (d >= b) outer *= params.dim(d);
    }
    for (int d = static_cast<int>(b); d < indices.rank(); ++d) {
      out_shape.AddDim(indices.dim(d));
      n *= indices.dim(d);
    }
    for (int d = *axis + 1; d < params.rank(); ++d) {
      out_shape.AddDim(params.dim(d));
      inner *= params.dim(d);
    }
    const int64_t limit = params.dim(*axis);
    absl::StatusOr<std::vector<int64_t>> idx = CheckedIndices(indices, limit, "indices");
    OP_REQUIRES_OK(ctx, idx.status());
    Tensor* out = ctx->allocate_output(0, out_shape);
    if (out->NumElements() == 0) return;
    const int64_t row = inner * static_cast<int64_t>(esize);
    const char* src = static_cast<const char*>(params.raw_data());
    char* dst = static_cast<char*>(out->raw_data());
    // Output [batch, outer, n, inner] from params [batch, outer, limit, inner].
    kernel_util::ParallelFor(batch * outer, n * row / 4 + 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t bt = p / outer;
        const int64_t* ids = idx->data() + bt * n;
        const char* plane = src + p * limit * row;
        char* o = dst + p * n * row;
        for (int64_t j = 0; j < n; ++j) std::memcpy(o + j * row, plane + ids[j] * row, row);
      }
    });
  }

 private:
  int64_t batch_dims_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("GatherV2"), GatherOp);

template <typename T>
class UnsortedSegmentSumOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& data = ctx->input(0);
    const Tensor& ids = ctx->input(1);
    absl::StatusOr<int64_t> num = kernel_util::IntScalar(ctx->input(2), "num_segments");
    OP_REQUIRES_OK(ctx, num.status());
    OP_REQUIRES(ctx, *num >= 0,
                absl::InvalidArgumentError(absl::StrCat("num_segments is negative: ", *num)));
    bool prefix = ids.rank() <= data.rank();
    for (int d = 0; prefix && d < ids.rank(); ++d) prefix = ids.dim(d) == data.dim(d);
    OP_REQUIRES(ctx, prefix,
                absl::InvalidArgumentError(absl::StrCat("segment_ids ", ids.shape().DebugString(),
                                                        " must be a prefix of data's shape ",
                                                        data.shape().DebugString())));
    TensorShape out_shape{*num};
    int64_t inner = 1;
    for (int d = ids.rank(); d < data.rank(); ++d) {
      out_shape.AddDim(data.dim(d));
      inner *= data.dim(d);
    }
    absl::StatusOr<std::vector<int64_t>> seg = CheckedIndices(ids, *num, "segment_ids");
    OP_REQUIRES_OK(ctx, seg.status());
    Tensor* out = ctx->allocate_output(0, out_shape);
    T* o = out->data<T>();
    std::fill_n(o, out->NumElements(), T(0));
    const T* in = data.data<T>();
    const int64_t n = static_cast<int64_t>(seg->size());
    // Columns are independent: threads split them, rows stay in order.
    kernel_util::ParallelFor(inner, n, [&](int64_t c0, int64_t c1) {
      for (int64_t i = 0; i < n; ++i) {
        T* dst = o + (*seg)[i] * inner;
        const T* src = in + i * inner;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    });
  }
};
#define REGISTER_SEGMENT_SUM(T)                                                        \
  BRAID_REGISTER_KERNEL(KernelDefBuilder("UnsortedSegmentSum").TypeConstraint<T>("T"), \
                        UnsortedSegmentSumOp<T>)
REGISTER_SEGMENT_SUM(float);
REGISTER_SEGMENT_SUM(double);
REGISTER_SEGMENT_SUM(int32_t);
REGISTER_SEGMENT_SUM(int64_t);

class OneHotOp : public OpKernel {
 public:
  explicit OneHotOp(OpKernelConstruction* c) : OpKernel(c) { OP_ATTR(c, int64_t, "axis", axis_); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& indices = ctx->input(0);
    const Tensor& on = ctx->input(2);
    const Tensor& off = ctx->input(3);
    absl::StatusOr<int64_t> depth = kernel_util::IntScalar(ctx->input(1), "depth");
    OP_REQUIRES_OK(ctx, depth.status());
    OP_REQUIRES(ctx, *depth >= 0,
                absl::InvalidArgumentError(absl::StrCat("depth is negative: ", *depth)));
    OP_REQUIRES(ctx, on.NumElements() == 1 && off.NumElements() == 1,
                absl::InvalidArgumentError("on_value and off_value must be scalars"));
    const int rank = indices.rank();
    OP_REQUIRES(ctx, axis_ >= -1 && axis_ <= rank,
                absl::InvalidArgumentError(
                    absl::StrCat("axis ", axis_, " is out of range for indices ",
                                 indices.shape().DebugString(), "; valid: [-1, ", rank, "]")));
    const int axis = axis_ == -1 ? rank : static_cast<int>(axis_);
    std::vector<int64_t> dims = indices.shape().dims();
    dims.insert(dims.begin() + axis, *depth);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < rank; ++d) (d < axis ? outer : inner) *= indices.dim(d);
    // Out-of-range indices (negative included) select nothing: all off.
    absl::StatusOr<std::vector<int64_t>> idx = ReadIndices(indices, "indices");
    OP_REQUIRES_OK(ctx, idx.status());
    const std::vector<int64_t>& values = *idx;
    Tensor* out = ctx->allocate_output(0, TensorShape(dims));
    const int64_t dep = *depth;
    const bool ok = kernel_util::DispatchByElementSize(on.dtype(), [&]<typename U>() {
      const U on_v = kernel_util::Elements<U>(on)[0];
      const U off_v = kernel_util::Elements<U>(off)[0];
      U* o = kernel_util::MutableElements<U>(out);
      kernel_util::ParallelFor(outer, dep * inner, [&](int64_t a0, int64_t a1) {
        for (int64_t a = a0; a < a1; ++a) {
          U* block = o + a * dep * inner;
          std::fill_n(block, dep * inner, off_v);
          for (int64_t i = 0; i < inner; ++i) {
            const int64_t v = values[a * inner + i];
            if (v >= 0 && v < dep) block[v * inner + i] = on_v;
          }
        }
      });
    });
    OP_REQUIRES(ctx, ok, kernel_util::UnsupportedDType("OneHot", on.dtype()));
  }

 private:
  int64_t axis_ = -1;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("OneHot"), OneHotOp);

}  // namespace
}  // namespace braid
