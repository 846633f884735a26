// Registrations of the indexing and filling array ops declared in
// array_ops.h: GatherV2, UnsortedSegmentSum, OneHot, Fill, BroadcastTo, Tile,
// BroadcastGradientArgs and Range. (The layout ops are in array_ops.cc.)
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/grad_util.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {

absl::Status BroadcastReductionAxes(const std::vector<int64_t>& s0, const std::vector<int64_t>& s1,
                                    std::vector<int64_t>* r0, std::vector<int64_t>* r1) {
  const int rank = static_cast<int>(std::max(s0.size(), s1.size()));
  const int pad0 = rank - static_cast<int>(s0.size());
  const int pad1 = rank - static_cast<int>(s1.size());
  r0->clear();
  r1->clear();
  for (int i = 0; i < rank; ++i) {
    const int64_t d0 = i < pad0 ? 1 : s0[i - pad0];
    const int64_t d1 = i < pad1 ? 1 : s1[i - pad1];
    if (d0 != d1 && d0 != 1 && d1 != 1) {
      return absl::InvalidArgumentError(absl::StrCat("incompatible shapes for broadcasting: [",
                                                     absl::StrJoin(s0, ","), "] vs. [",
                                                     absl::StrJoin(s1, ","), "]"));
    }
    const int64_t out = d0 == 1 ? d1 : d0;
    if (d0 == 1 && (out != 1 || i < pad0)) r0->push_back(i);
    if (d1 == 1 && (out != 1 || i < pad1)) r1->push_back(i);
  }
  return absl::OkStatus();
}

namespace {
template <typename T>
absl::Status CheckRange(T start, T limit, T delta) {
  if (delta == 0) return absl::InvalidArgumentError("Range: delta must not be 0");
  if (delta > 0 ? start > limit : start < limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("Range: start ", start, " cannot reach limit ", limit, " with delta ", delta));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<int64_t> RangeLength(int64_t start, int64_t limit, int64_t delta) {
  RETURN_IF_ERROR(CheckRange(start, limit, delta));
  const int64_t span = limit > start ? limit - start : start - limit;
  const int64_t step = delta > 0 ? delta : -delta;
  return (span + step - 1) / step;
}

absl::StatusOr<int64_t> RangeLength(double start, double limit, double delta) {
  RETURN_IF_ERROR(CheckRange(start, limit, delta));
  return static_cast<int64_t>(std::ceil(std::abs((limit - start) / delta)));
}

namespace {

using Grads = std::vector<Output>;

std::vector<DType> IndexTypes() { return {DType::kInt32, DType::kInt64}; }

std::optional<std::vector<int64_t>> ConstInput(InferenceContext& c, int i) {
  return ConstIntValues(c.node().input(i));
}

absl::Status Wrap(InferenceContext& c, const absl::Status& s) {
  return s.ok() ? s : c.Error(s.message());
}

// ---------------------------------------------------------------------------
// Gathering and scattering.

absl::Status GatherShape(InferenceContext& c) {
  const TensorShape& params = c.input_shape(0);
  const TensorShape& indices = c.input_shape(1);
  std::optional<int64_t> axis = ConstIntScalar(c.node().input(2));
  int64_t batch_dims = c.attr<int64_t>("batch_dims");
  if (params.unknown_rank() || indices.unknown_rank()) {
    c.set_output(0, TensorShape::UnknownRank());
    return absl::OkStatus();
  }
  if (batch_dims < 0) batch_dims += indices.rank();
  if (batch_dims < 0 || batch_dims > indices.rank()) {
    return c.Error(absl::StrCat("batch_dims ", c.attr<int64_t>("batch_dims"),
                                " is out of range for indices ", indices.DebugString()));
  }
  const int out_rank = params.rank() + indices.rank() - 1 - static_cast<int>(batch_dims);
  if (!axis) {
    c.set_output(0, UnknownDims(std::max(out_rank, 0)));
    return absl::OkStatus();
  }
  absl::StatusOr<int> a = NormalizeAxis(*axis, params.rank());
  if (!a.ok())
    return c.Error(absl::StrCat(a.status().message(), " (params ", params.DebugString(), ")"));
  if (batch_dims > *a) {
    return c.Error(absl::StrCat("batch_dims ", batch_dims, " must be <= axis ", *a));
  }
  for (int i = 0; i < batch_dims; ++i) {
    if (params.dim(i) >= 0 && indices.dim(i) >= 0 && params.dim(i) != indices.dim(i)) {
      return c.Error(absl::StrCat("batch dimension ", i, " differs: params ", params.DebugString(),
                                  ", indices ", indices.DebugString()));
    }
  }
  TensorShape out;
  for (int i = 0; i < *a; ++i) out.AddDim(params.dim(i));
  for (int i = static_cast<int>(batch_dims); i < indices.rank(); ++i) out.AddDim(indices.dim(i));
  for (int i = *a + 1; i < params.rank(); ++i) out.AddDim(params.dim(i));
  c.set_output(0, out);
  return absl::OkStatus();
}

// Note [GatherV2 gradient]
// Dense: the gradient rows are scatter-added into a zero tensor shaped like
// params with UnsortedSegmentSum. For axis a > 0, params is viewed as
// [outer, P, inner] and dy as [outer, N, inner]; moving N to the front makes
// it a segment sum over the first dimension. batch_dims > 0 is not supported.
absl::Status GatherGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output params = n.input(0), indices = n.input(1);
  std::optional<int64_t> axis = ConstIntScalar(n.input(2));
  const TensorShape& ps = params.shape();
  if (n.attr<int64_t>("batch_dims") != 0 || !axis || ps.unknown_rank()) {
    return absl::UnimplementedError(
        absl::StrCat("the gradient of GatherV2 node '", n.name(),
                     "' needs batch_dims 0, a constant axis and params of known rank"));
  }
  const int rank = ps.rank();
  const int a = static_cast<int>(*axis < 0 ? *axis + rank : *axis);
  Output ids = ops::Reshape(s, indices, {-1});
  Output num_segments = ops::Reshape(s, ShapeSlice(s, params, a, a + 1), Int32Vector(s, {}));
  if (a == 0) {
    Output rows = ops::Reshape(
        s, dy[0], ops::Concat(s, {Int32Vector(s, {-1}), ShapeSlice(s, params, 1, rank)}, 0));
    (*dx)[0] = ops::UnsortedSegmentSum(s, rows, ids, num_segments);
    return absl::OkStatus();
  }
  Output outer = ops::Prod(s, ShapeSlice(s, params, 0, a), 0, /*keep_dims=*/true);
  Output inner = ops::Prod(s, ShapeSlice(s, params, a + 1, rank), 0, /*keep_dims=*/true);
  Output grad3 = ops::Reshape(s, dy[0], ops::Concat(s, {outer, Int32Vector(s, {-1}), inner}, 0));
  Output summed =
      ops::UnsortedSegmentSum(s, ops::Transpose(s, grad3, {1, 0, 2}), ids, num_segments);
  (*dx)[0] = ops::Reshape(s, ops::Transpose(s, summed, {1, 0, 2}), ShapeVector(s, params));
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("GatherV2")
                      .Input("params: Tparams")
                      .Input("indices: Tindices")
                      .Input("axis: Taxis")
                      .Output("output: Tparams")
                      .TypeAttr("Tparams")
                      .TypeAttr("Tindices", IndexTypes())
                      .TypeAttrWithDefault("Taxis", DType::kInt32, IndexTypes())
                      .Attr("batch_dims", int64_t{0})
                      .SetShapeFn(GatherShape)
                      .SetGradient(GatherGrad));

BRAID_REGISTER_OP(OpDefBuilder("UnsortedSegmentSum")
                      .Input("data: T")
                      .Input("segment_ids: Tindices")
                      .Input("num_segments: Tnumsegments")
                      .Output("output: T")
                      .TypeAttr("T", {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64})
                      .TypeAttr("Tindices", IndexTypes())
                      .TypeAttrWithDefault("Tnumsegments", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        const TensorShape& data = c.input_shape(0);
                        const TensorShape& ids = c.input_shape(1);
                        std::optional<int64_t> num = ConstIntScalar(c.node().input(2));
                        if (data.unknown_rank() || ids.unknown_rank()) {
                          c.set_output(0, TensorShape::UnknownRank());
                          return absl::OkStatus();
                        }
                        if (ids.rank() > data.rank()) {
                          return c.Error(absl::StrCat("segment_ids ", ids.DebugString(),
                                                      " must be a prefix of data's shape ",
                                                      data.DebugString()));
                        }
                        for (int i = 0; i < ids.rank(); ++i) {
                          if (ids.dim(i) >= 0 && data.dim(i) >= 0 && ids.dim(i) != data.dim(i)) {
                            return c.Error(absl::StrCat("segment_ids ", ids.DebugString(),
                                                        " must be a prefix of data's shape ",
                                                        data.DebugString()));
                          }
                        }
                        if (num && *num < 0)
                          return c.Error(absl::StrCat("num_segments is negative: ", *num));
                        TensorShape out{num ? *num : -1};
                        for (int i = ids.rank(); i < data.rank(); ++i) out.AddDim(data.dim(i));
                        c.set_output(0, out);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        (*dx)[0] = ops::GatherV2(s, dy[0], n.input(1), 0);
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(
    OpDefBuilder("OneHot")
        .Input("indices: TI")
        .Input("depth: int32")
        .Input("on_value: T")
        .Input("off_value: T")
        .Output("output: T")
        .TypeAttr("T")
        .TypeAttrWithDefault("TI", DType::kInt64, {DType::kUInt8, DType::kInt32, DType::kInt64})
        .Attr("axis", int64_t{-1})
        .SetShapeFn([](InferenceContext& c) {
          RETURN_IF_ERROR(RequireRank(c, 1, 0));
          RETURN_IF_ERROR(RequireRank(c, 2, 0));
          RETURN_IF_ERROR(RequireRank(c, 3, 0));
          const TensorShape& in = c.input_shape(0);
          const int64_t axis = c.attr<int64_t>("axis");
          std::optional<int64_t> depth = ConstIntScalar(c.node().input(1));
          if (depth && *depth < 0) return c.Error(absl::StrCat("depth is negative: ", *depth));
          if (in.unknown_rank()) {
            c.set_output(0, in);
            return absl::OkStatus();
          }
          if (axis < -1 || axis > in.rank()) {
            return c.Error(absl::StrCat("axis ", axis, " is out of range for indices ",
                                        in.DebugString(), "; valid: [-1, ", in.rank(), "]"));
          }
          std::vector<int64_t> dims = in.dims();
          dims.insert(dims.begin() + (axis == -1 ? in.rank() : axis), depth ? *depth : -1);
          c.set_output(0, TensorShape(dims));
          return absl::OkStatus();
        })
        .NoGradient());

// ---------------------------------------------------------------------------
// Filling, broadcasting, tiling.

BRAID_REGISTER_OP(OpDefBuilder("Fill")
                      .Input("dims: index_type")
                      .Input("value: T")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("index_type", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 0, 1));
                        RETURN_IF_ERROR(RequireRank(c, 1, 0));
                        if (std::optional<std::vector<int64_t>> dims = ConstInput(c, 0)) {
                          absl::StatusOr<TensorShape> s = MakeFullShape(*dims);
                          if (!s.ok()) return c.Error(s.status().message());
                          c.set_output(0, *s);
                        } else if (std::optional<TensorShape> s = c.input_as_shape(0)) {
                          c.set_output(0, *s);
                        } else {
                          const TensorShape& v = c.input_shape(0);
                          c.set_output(0, !v.unknown_rank() && v.dim(0) >= 0
                                              ? UnknownDims(static_cast<int>(v.dim(0)))
                                              : TensorShape::UnknownRank());
                        }
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node&, const Grads& dy, Grads* dx) {
                        const TensorShape& ys = dy[0].shape();
                        Output axes;
                        if (!ys.unknown_rank()) {
                          std::vector<int64_t> all(ys.rank());
                          std::iota(all.begin(), all.end(), 0);
                          axes = Int32Vector(s, all);
                        } else {
                          axes = ops::Range(s, 0, ops::Rank(s, dy[0]), 1);
                        }
                        (*dx)[1] = ops::Sum(s, dy[0], axes);
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("BroadcastTo")
                      .Input("input: T")
                      .Input("shape: Tidx")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tidx", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 1, 1));
                        const TensorShape& in = c.input_shape(0);
                        std::optional<TensorShape> target = c.input_as_shape(1);
                        if (!target) {
                          c.set_output(0, TensorShape::UnknownRank());
                          return absl::OkStatus();
                        }
                        if (c.input_constant(1) != nullptr) {
                          absl::StatusOr<TensorShape> full = MakeFullShape(target->dims());
                          if (!full.ok()) return c.Error(full.status().message());
                        }
                        absl::StatusOr<TensorShape> b = BroadcastShapes(in, *target);
                        if (!b.ok() || (!in.unknown_rank() && in.rank() > target->rank()) ||
                            !b->IsCompatibleWith(*target)) {
                          return c.Error(absl::StrCat("cannot broadcast ", in.DebugString(), " to ",
                                                      target->DebugString()));
                        }
                        c.set_output(0, *b->Merge(*target));
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        (*dx)[0] = ReduceGradToShape(s, dy[0], n.input(0));
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("Tile")
                      .Input("input: T")
                      .Input("multiples: Tmultiples")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tmultiples", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 1, 1));
                        const TensorShape& in = c.input_shape(0);
                        std::optional<std::vector<int64_t>> m = ConstInput(c, 1);
                        if (!m) {
                          c.set_output(0, in.unknown_rank() ? in : UnknownDims(in.rank()));
                          return absl::OkStatus();
                        }
                        if (!in.unknown_rank() && static_cast<int>(m->size()) != in.rank()) {
                          return c.Error(absl::StrCat("multiples [", absl::StrJoin(*m, ","),
                                                      "] must have one entry per dimension of ",
                                                      in.DebugString()));
                        }
                        TensorShape out = UnknownDims(static_cast<int>(m->size()));
                        for (size_t i = 0; i < m->size(); ++i) {
                          if ((*m)[i] < 0)
                            return c.Error(absl::StrCat("multiples must be >= 0, got ", (*m)[i]));
                          if (!in.unknown_rank() && in.dim(i) >= 0)
                            out.set_dim(i, in.dim(i) * (*m)[i]);
                        }
                        c.set_output(0, out);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        // View dy as [m0, d0, m1, d1, ...] and sum over the m axes.
                        Output x = n.input(0), multiples = n.input(1);
                        std::optional<std::vector<int64_t>> m = ConstIntValues(multiples);
                        if (m && x.shape().IsFullyDefined()) {
                          std::vector<int64_t> split, axes;
                          for (size_t i = 0; i < m->size(); ++i) {
                            axes.push_back(static_cast<int64_t>(split.size()));
                            split.push_back((*m)[i]);
                            split.push_back(x.shape().dim(i));
                          }
                          (*dx)[0] = ops::Sum(s, ops::Reshape(s, dy[0], Int32Vector(s, split)),
                                              Int32Vector(s, axes));
                          return absl::OkStatus();
                        }
                        Output m32 = multiples.dtype() == DType::kInt32
                                         ? multiples
                                         : ops::Cast(s, multiples, DType::kInt32);
                        Output split =
                            ops::Reshape(s,
                                         ops::Concat(s,
                                                     {ops::Reshape(s, m32, {-1, 1}),
                                                      ops::Reshape(s, ops::Shape(s, x), {-1, 1})},
                                                     1),
                                         {-1});
                        Output axes = ops::Range(s, 0, ops::Size(s, split), 2);
                        (*dx)[0] = ops::Sum(s, ops::Reshape(s, dy[0], split), axes);
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("BroadcastGradientArgs")
                      .Input("s0: T")
                      .Input("s1: T")
                      .Output("r0: T")
                      .Output("r1: T")
                      .TypeAttrWithDefault("T", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 0, 1));
                        RETURN_IF_ERROR(RequireRank(c, 1, 1));
                        std::optional<std::vector<int64_t>> s0 = ConstInput(c, 0);
                        std::optional<std::vector<int64_t>> s1 = ConstInput(c, 1);
                        std::vector<int64_t> r0, r1;
                        if (s0 && s1) {
                          RETURN_IF_ERROR(Wrap(c, BroadcastReductionAxes(*s0, *s1, &r0, &r1)));
                        }
                        c.set_output(0,
                                     TensorShape{s0 && s1 ? static_cast<int64_t>(r0.size()) : -1});
                        c.set_output(1,
                                     TensorShape{s0 && s1 ? static_cast<int64_t>(r1.size()) : -1});
                        return absl::OkStatus();
                      })
                      .NoGradient());

BRAID_REGISTER_OP(
    OpDefBuilder("Range")
        .Input("start: Tidx")
        .Input("limit: Tidx")
        .Input("delta: Tidx")
        .Output("output: Tidx")
        .TypeAttrWithDefault("Tidx", DType::kInt32,
                             {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64})
        .SetShapeFn([](InferenceContext& c) {
          for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(RequireRank(c, i, 0));
          const Tensor* t[3] = {c.input_constant(0), c.input_constant(1), c.input_constant(2)};
          if (!t[0] || !t[1] || !t[2]) {
            c.set_output(0, TensorShape{-1});
            return absl::OkStatus();
          }
          absl::StatusOr<int64_t> n;
          const DType dtype = t[0]->dtype();
          if (dtype == DType::kFloat || dtype == DType::kDouble) {
            auto value = [&](int i) -> double {
              return dtype == DType::kFloat ? t[i]->data<float>()[0] : t[i]->data<double>()[0];
            };
            n = RangeLength(value(0), value(1), value(2));
          } else {
            n = RangeLength(*ConstIntScalar(c.node().input(0)), *ConstIntScalar(c.node().input(1)),
                            *ConstIntScalar(c.node().input(2)));
          }
          if (!n.ok()) return c.Error(n.status().message());
          c.set_output(0, TensorShape{*n});
          return absl::OkStatus();
        })
        .NoGradient());

}  // namespace

namespace ops {

Output GatherV2(const Scope& s, Input params, Input indices, Input axis, int64_t batch_dims) {
  return s.AddOp("GatherV2", {params, indices, axis}, {{"batch_dims", batch_dims}});
}
Output UnsortedSegmentSum(const Scope& s, Input data, Input segment_ids, Input num_segments) {
  return s.AddOp("UnsortedSegmentSum", {data, segment_ids, num_segments});
}
Output OneHot(const Scope& s, Input indices, Input depth, Input on_value, Input off_value,
              int64_t axis) {
  return s.AddOp("OneHot", {indices, depth, on_value, off_value}, {{"axis", axis}});
}
Output Fill(const Scope& s, Input dims, Input value) { return s.AddOp("Fill", {dims, value}); }
Output BroadcastTo(const Scope& s, Input input, Input shape) {
  return s.AddOp("BroadcastTo", {input, shape});
}
Output Tile(const Scope& s, Input input, Input multiples) {
  return s.AddOp("Tile", {input, multiples});
}
BroadcastGradientArgsOutputs BroadcastGradientArgs(const Scope& s, Input s0, Input s1) {
  std::vector<Output> out = s.AddOpOutputs("BroadcastGradientArgs", {s0, s1});
  if (out.size() != 2) return {};
  return {out[0], out[1]};
}
Output Range(const Scope& s, Input start, Input limit, Input delta) {
  return s.AddOp("Range", {start, limit, delta});
}

}  // namespace ops
}  // namespace braid
