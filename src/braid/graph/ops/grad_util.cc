#include "braid/graph/ops/grad_util.h"

#include <set>

#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"

namespace braid {
namespace {

// True when broadcasting x with `other` provably leaves x's shape unchanged.
bool NotWidened(const TensorShape& x, const TensorShape& other) {
  if (x.unknown_rank() || other.unknown_rank() || other.rank() > x.rank()) return false;
  const int offset = x.rank() - other.rank();
  for (int i = 0; i < other.rank(); ++i) {
    const int64_t xd = x.dim(offset + i), od = other.dim(i);
    if (od == 1) continue;
    if (xd >= 0 && xd != 1) continue;  // x's own size wins (or the graph fails to run)
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::vector<int64_t>> ConstIntValues(const Output& o) {
  if (!o.valid() || o.node->op() != "Const") return std::nullopt;
  const Tensor* t = std::get_if<Tensor>(&o.node->attrs().at("value"));
  if (t == nullptr) return std::nullopt;
  std::vector<int64_t> v(t->NumElements());
  if (t->dtype() == DType::kInt32) {
    for (int64_t i = 0; i < t->NumElements(); ++i) v[i] = t->data<int32_t>()[i];
  } else if (t->dtype() == DType::kInt64) {
    for (int64_t i = 0; i < t->NumElements(); ++i) v[i] = t->data<int64_t>()[i];
  } else {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ConstIntScalar(const Output& o) {
  std::optional<std::vector<int64_t>> v = ConstIntValues(o);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

Output Int32Vector(const Scope& scope, const std::vector<int64_t>& values) {
  std::vector<int32_t> v(values.begin(), values.end());
  return ops::Const(scope, Tensor::FromVector(v));
}

TensorShape UnknownDims(int rank) {
  return TensorShape(std::vector<int64_t>(rank, TensorShape::kUnknownDim));
}

Output ShapeSlice(const Scope& scope, Output x, int begin, int end) {
  const TensorShape& xs = x.shape();
  std::vector<int64_t> dims(xs.dims().begin() + begin, xs.dims().begin() + end);
  bool known = true;
  for (int64_t d : dims) known = known && d >= 0;
  if (known) return Int32Vector(scope, dims);
  return ops::Slice(scope, ops::Shape(scope, x), Int32Vector(scope, {begin}),
                    Int32Vector(scope, {end - begin}));
}

Output ShapeVector(const Scope& scope, Output x) {
  if (x.valid() && x.shape().IsFullyDefined()) return Int32Vector(scope, x.shape().dims());
  return ops::Shape(scope, x);
}

Output ReduceGradToShape(const Scope& scope, Output grad, Output x) {
  if (!scope.ok() || !grad.valid() || !x.valid()) return Output();
  const TensorShape& xs = x.shape();
  const TensorShape& gs = grad.shape();
  if (xs.IsFullyDefined() && !gs.unknown_rank() && gs.rank() >= xs.rank()) {
    const int lead = gs.rank() - xs.rank();
    std::vector<int64_t> axes;
    for (int i = 0; i < lead; ++i) axes.push_back(i);
    for (int i = 0; i < xs.rank(); ++i) {
      // Summing over a size-1 axis of grad is a no-op, so a 1 in x is enough.
      if (xs.dim(i) == 1 && gs.dim(lead + i) != 1) axes.push_back(lead + i);
    }
    if (axes.empty() && lead == 0) return grad;
    Output sum = ops::Sum(scope, grad, Int32Vector(scope, axes));
    return ops::Reshape(scope, sum, Int32Vector(scope, xs.dims()));
  }
  Output x_shape = ops::Shape(scope, x);
  ops::BroadcastGradientArgsOutputs args =
      ops::BroadcastGradientArgs(scope, x_shape, ops::Shape(scope, grad));
  return ops::Reshape(scope, ops::Sum(scope, grad, args.r0), x_shape);
}

Output ReduceGradToShape(const Scope& scope, Output grad, Output x, Output other) {
  if (!scope.ok() || !grad.valid() || !x.valid()) return Output();
  if (other.valid() && NotWidened(x.shape(), other.shape())) return grad;
  return ReduceGradToShape(scope, grad, x);
}

Output KeptDimsShape(const Scope& scope, Output x, Output axes) {
  if (!scope.ok() || !x.valid() || !axes.valid()) return Output();
  const TensorShape& xs = x.shape();
  std::optional<std::vector<int64_t>> const_axes = ConstIntValues(axes);
  if (const_axes && !xs.unknown_rank()) {
    const int rank = xs.rank();
    std::set<int64_t> reduced;
    for (int64_t a : *const_axes) reduced.insert(a < 0 ? a + rank : a);
    std::vector<int64_t> keep_mask(rank), reduce_mask(rank);
    std::vector<int64_t> dims = xs.dims();
    for (int i = 0; i < rank; ++i) {
      const bool r = reduced.count(i) > 0;
      keep_mask[i] = r ? 0 : 1;
      reduce_mask[i] = r ? 1 : 0;
      if (r) dims[i] = 1;
    }
    bool known = true;
    for (int64_t d : dims) known = known && d >= 0;
    if (known) return Int32Vector(scope, dims);
    // shape * keep + reduce: x's dims where kept, 1 where reduced.
    return ops::Add(scope, ops::Mul(scope, ops::Shape(scope, x), Int32Vector(scope, keep_mask)),
                    Int32Vector(scope, reduce_mask));
  }
  // Nothing static: build the reduce mask from the axes at run time.
  Output shape = ops::Shape(scope, x);
  Output rank = ops::Size(scope, shape);
  Output a = ops::Reshape(
      scope, axes.dtype() == DType::kInt32 ? axes : ops::Cast(scope, axes, DType::kInt32), {-1});
  Output normalized = ops::Add(
      scope, a, ops::Mul(scope, rank, ops::Cast(scope, ops::Less(scope, a, 0), DType::kInt32)));
  Output positions = ops::Reshape(scope, ops::Range(scope, 0, rank, 1), {-1, 1});
  Output hits = ops::Cast(
      scope, ops::Equal(scope, positions, ops::Reshape(scope, normalized, {1, -1})), DType::kInt32);
  Output is_reduced = ops::Minimum(scope, ops::Sum(scope, hits, 1), 1);
  return ops::Add(scope, ops::Mul(scope, shape, ops::Sub(scope, 1, is_reduced)), is_reduced);
}

}  // namespace braid
