// Kernels of the shape-manipulating array ops (graph/ops/array_ops.cc):
// Shape, Size, Rank, Reshape, ExpandDims, Squeeze, BroadcastGradientArgs,
// InvertPermutation, ConcatOffset, Range and Fill. Reshape-like ops share
// the input's buffer; none of them copies element data except Fill.
#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

using kernel_util::IntScalar;
using kernel_util::IntValues;

// A vector of int32 or int64 (the node's output dtype) from int64 values.
absl::StatusOr<Tensor> IndexVector(DType dtype, const std::vector<int64_t>& v) {
  Tensor t(dtype, TensorShape{static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::kInt64) {
      t.data<int64_t>()[i] = v[i];
    } else {
      if (v[i] > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat("value ", v[i], " does not fit in int32; use out_type int64"));
      }
      t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
    }
  }
  return t;
}

class ShapeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<Tensor> t =
        IndexVector(ctx->node().output_dtype(0), ctx->input(0).shape().dims());
    OP_REQUIRES_OK(ctx, t.status());
    ctx->set_output(0, *t);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Shape"), ShapeOp);

class SizeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<Tensor> t =
        IndexVector(ctx->node().output_dtype(0), {ctx->input(0).NumElements()});
    OP_REQUIRES_OK(ctx, t.status());
    ctx->set_output(0, t->Reshaped(TensorShape{}));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Size"), SizeOp);

class RankOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    ctx->set_output(0, Tensor::Scalar<int32_t>(ctx->input(0).rank()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Rank"), RankOp);

class ReshapeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    OP_REQUIRES(ctx, ctx->input(1).rank() == 1,
                absl::InvalidArgumentError(absl::StrCat("shape must be a vector, got shape ",
                                                        ctx->input(1).shape().DebugString())));
    absl::StatusOr<std::vector<int64_t>> target = IntValues(ctx->input(1), "shape");
    OP_REQUIRES_OK(ctx, target.status());
    absl::StatusOr<TensorShape> shape = ReshapedShape(x.shape(), *target);
    OP_REQUIRES_OK(ctx, shape.status());
    ctx->set_output(0, x.Reshaped(*shape));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Reshape"), ReshapeOp);

class ExpandDimsOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::StatusOr<int64_t> dim = IntScalar(ctx->input(1), "dim");
    OP_REQUIRES_OK(ctx, dim.status());
    absl::StatusOr<int> a = NormalizeAxis(*dim, x.rank() + 1);
    OP_REQUIRES_OK(ctx, a.status());
    std::vector<int64_t> dims = x.shape().dims();
    dims.insert(dims.begin() + *a, 1);
    ctx->set_output(0, x.Reshaped(TensorShape(dims)));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ExpandDims"), ExpandDimsOp);

class SqueezeOp : public OpKernel {
 public:
  explicit SqueezeOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, std::vector<int64_t>, "squeeze_dims", axes_);
  }
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    std::set<int> squeeze;
    for (int64_t a : axes_) {
      absl::StatusOr<int> n = NormalizeAxis(a, x.rank());
      OP_REQUIRES_OK(ctx, n.status());
      OP_REQUIRES(ctx, x.dim(*n) == 1,
                  absl::InvalidArgumentError(absl::StrCat("cannot squeeze dimension ", *n,
                                                          " of shape ", x.shape().DebugString(),
                                                          ": its size is ", x.dim(*n), ", not 1")));
      squeeze.insert(*n);
    }
    TensorShape out;
    for (int d = 0; d < x.rank(); ++d) {
      if (axes_.empty() ? x.dim(d) == 1 : squeeze.count(d) > 0) continue;
      out.AddDim(x.dim(d));
    }
    ctx->set_output(0, x.Reshaped(out));
  }

 private:
  std::vector<int64_t> axes_;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Squeeze"), SqueezeOp);

class BroadcastGradientArgsOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::vector<int64_t>> s0 = IntValues(ctx->input(0), "s0");
    OP_REQUIRES_OK(ctx, s0.status());
    absl::StatusOr<std::vector<int64_t>> s1 = IntValues(ctx->input(1), "s1");
    OP_REQUIRES_OK(ctx, s1.status());
    std::vector<int64_t> r0, r1;
    OP_REQUIRES_OK(ctx, BroadcastReductionAxes(*s0, *s1, &r0, &r1));
    const DType dtype = ctx->node().output_dtype(0);
    absl::StatusOr<Tensor> t0 = IndexVector(dtype, r0);
    absl::StatusOr<Tensor> t1 = IndexVector(dtype, r1);
    OP_REQUIRES_OK(ctx, t0.status());
    OP_REQUIRES_OK(ctx, t1.status());
    ctx->set_output(0, *t0);
    ctx->set_output(1, *t1);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("BroadcastGradientArgs"), BroadcastGradientArgsOp);

class InvertPermutationOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    OP_REQUIRES(ctx, ctx->input(0).rank() == 1,
                absl::InvalidArgumentError(absl::StrCat("x must be a vector, got shape ",
                                                        ctx->input(0).shape().DebugString())));
    absl::StatusOr<std::vector<int64_t>> perm = IntValues(ctx->input(0), "x");
    OP_REQUIRES_OK(ctx, perm.status());
    OP_REQUIRES_OK(ctx, CheckPermutation(*perm, static_cast<int>(perm->size())));
    std::vector<int64_t> inverse(perm->size());
    for (size_t i = 0; i < perm->size(); ++i) inverse[(*perm)[i]] = static_cast<int64_t>(i);
    absl::StatusOr<Tensor> t = IndexVector(ctx->node().output_dtype(0), inverse);
    OP_REQUIRES_OK(ctx, t.status());
    ctx->set_output(0, *t);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("InvertPermutation"), InvertPermutationOp);

class ConcatOffsetOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsExpensive() const override { return false; }
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<int64_t> axis = IntScalar(ctx->input(0), "concat_dim");
    OP_REQUIRES_OK(ctx, axis.status());
    absl::StatusOr<std::vector<int64_t>> first = IntValues(ctx->input(1), "shape");
    OP_REQUIRES_OK(ctx, first.status());
    absl::StatusOr<int> a = NormalizeAxis(*axis, static_cast<int>(first->size()));
    OP_REQUIRES_OK(ctx, a.status());
    int64_t offset = 0;
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      absl::StatusOr<std::vector<int64_t>> s = IntValues(ctx->input(i), "shape");
      OP_REQUIRES_OK(ctx, s.status());
      bool compatible = s->size() == first->size();
      for (size_t d = 0; compatible && d < s->size(); ++d)
        compatible = static_cast<int>(d) == *a || (*s)[d] == (*first)[d];
      OP_REQUIRES(ctx, compatible,
                  absl::InvalidArgumentError(absl::StrCat(
                      "shape [", absl::StrJoin(*s, ","), "] cannot be concatenated with [",
                      absl::StrJoin(*first, ","), "] along axis ", *a)));
      std::vector<int64_t> off(s->size(), 0);
      off[*a] = offset;
      offset += (*s)[*a];
      absl::StatusOr<Tensor> t = IndexVector(DType::kInt32, off);
      OP_REQUIRES_OK(ctx, t.status());
      ctx->set_output(i - 1, *t);
    }
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ConcatOffset"), ConcatOffsetOp);

template <typename T>
class RangeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    for (int i = 0; i < 3; ++i) {
      OP_REQUIRES(ctx, ctx->input(i).NumElements() == 1,
                  absl::InvalidArgumentError(
                      absl::StrCat("start, limit and delta must be scalars; input ", i,
                                   " has shape ", ctx->input(i).shape().DebugString())));
    }
    const T start = ctx->input(0).data<T>()[0];
    const T limit = ctx->input(1).data<T>()[0];
    const T delta = ctx->input(2).data<T>()[0];
    absl::StatusOr<int64_t> n;
    if constexpr (std::is_integral_v<T>) {
      n = RangeLength(int64_t{start}, int64_t{limit}, int64_t{delta});
    } else {
      n = RangeLength(double{start}, double{limit}, double{delta});
    }
    OP_REQUIRES_OK(ctx, n.status());
    Tensor* out = ctx->allocate_output(0, TensorShape{*n});
    T* o = out->data<T>();
    for (int64_t i = 0; i < *n; ++i) o[i] = start + static_cast<T>(i) * delta;
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Range").TypeConstraint<float>("Tidx"), RangeOp<float>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Range").TypeConstraint<double>("Tidx"), RangeOp<double>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Range").TypeConstraint<int32_t>("Tidx"), RangeOp<int32_t>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Range").TypeConstraint<int64_t>("Tidx"), RangeOp<int64_t>);

class FillOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<TensorShape> shape = kernel_util::ShapeFromTensor(ctx->input(0), "dims");
    OP_REQUIRES_OK(ctx, shape.status());
    const Tensor& value = ctx->input(1);
    OP_REQUIRES(ctx, value.rank() == 0,
                absl::InvalidArgumentError(absl::StrCat("value must be a scalar, got shape ",
                                                        value.shape().DebugString())));
    Tensor* out = ctx->allocate_output(0, *shape);
    const bool ok = kernel_util::DispatchByElementSize(value.dtype(), [&]<typename U>() {
      const U v = kernel_util::Elements<U>(value)[0];
      U* o = kernel_util::MutableElements<U>(out);
      kernel_util::ParallelFor(out->NumElements(), 1,
                               [&](int64_t b, int64_t e) { std::fill(o + b, o + e, v); });
    });
    OP_REQUIRES(ctx, ok, kernel_util::UnsupportedDType("Fill", value.dtype()));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Fill"), FillOp);

}  // namespace
}  // namespace braid
