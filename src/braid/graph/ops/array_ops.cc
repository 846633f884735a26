#include "braid/graph/ops/array_ops.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/grad_util.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {

// ---------------------------------------------------------------------------
// Shared shape arithmetic.

absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat("axis ", axis, " is out of range for rank ",
                                                   rank, "; valid axes are [", -rank, ", ", rank,
                                                   ")"));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

absl::StatusOr<TensorShape> ReshapedShape(const TensorShape& in,
                                          const std::vector<int64_t>& shape) {
  TensorShape target(shape);
  auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", in.DebugString(), " (",
                                                   in.num_elements(), " elements) into ",
                                                   target.DebugString(), why));
  };
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) return fail(": at most one dimension may be -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return fail(absl::StrCat(": dimension ", i, " is ", shape[i]));
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = in.num_elements();
  if (infer >= 0) {
    if (known == 0 || n % known != 0) {
      return fail(known == 0 ? ": the -1 dimension is ambiguous next to a 0" : "");
    }
    target.set_dim(infer, n / known);
  } else if (known != n) {
    return fail(absl::StrCat(" (", known, " elements)"));
  }
  return target;
}

absl::Status CheckPermutation(const std::vector<int64_t>& perm, int rank) {
  std::vector<bool> seen(rank, false);
  bool ok = static_cast<int>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!ok || p < 0 || p >= rank || seen[p]) {
      ok = false;
      break;
    }
    seen[p] = true;
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("perm [", absl::StrJoin(perm, ","),
                                                 "] is not a permutation of [0, ", rank, ")"));
}

absl::StatusOr<std::vector<int64_t>> SliceSizes(const TensorShape& in,
                                                const std::vector<int64_t>& begin,
                                                const std::vector<int64_t>& size) {
  if (static_cast<int>(begin.size()) != in.rank() || static_cast<int>(size.size()) != in.rank()) {
    return absl::InvalidArgumentError(
        absl::StrCat("begin [", absl::StrJoin(begin, ","), "] and size [", absl::StrJoin(size, ","),
                     "] must have one entry per dimension of the input ", in.DebugString()));
  }
  std::vector<int64_t> out(in.rank());
  for (int i = 0; i < in.rank(); ++i) {
    const int64_t dim = in.dim(i), b = begin[i], s = size[i];
    const bool bad = b < 0 || s < -1 || (dim >= 0 && (b > dim || (s >= 0 && b + s > dim)));
    if (bad) {
      return absl::InvalidArgumentError(absl::StrCat(
          "slice begin [", absl::StrJoin(begin, ","), "] size [", absl::StrJoin(size, ","),
          "] does not fit in input ", in.DebugString(), " at dimension ", i));
    }
    out[i] = s >= 0 ? s : (dim >= 0 ? dim - b : TensorShape::kUnknownDim);
  }
  return out;
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
// Shapes and reshaping.

BRAID_REGISTER_OP(OpDefBuilder("Shape")
                      .Input("input: T")
                      .Output("output: out_type")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("out_type", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        const TensorShape& in = c.input_shape(0);
                        c.set_output(0, TensorShape{in.unknown_rank() ? -1 : in.rank()});
                        return absl::OkStatus();
                      })
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("Size")
                      .Input("input: T")
                      .Output("output: out_type")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("out_type", DType::kInt32, IndexTypes())
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("Rank")
                      .Input("input: T")
                      .Output("output: int32")
                      .TypeAttr("T")
                      .SetShapeFn(ScalarShape)
                      .NoGradient());

// Gradient of the ops that only change the shape: reshape back.
absl::Status ReshapeBackGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  (*dx)[0] = ops::Reshape(s, dy[0], ShapeVector(s, n.input(0)));
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("Reshape")
                      .Input("tensor: T")
                      .Input("shape: Tshape")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tshape", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 1, 1));
                        const TensorShape& in = c.input_shape(0);
                        std::optional<std::vector<int64_t>> shape = ConstInput(c, 1);
                        if (!shape) {
                          // A Shape op's partial result has unknowns, not "infer" markers.
                          std::optional<TensorShape> s = c.input_as_shape(1);
                          const TensorShape& v = c.input_shape(1);
                          if (s) {
                            c.set_output(0, *s);
                          } else if (!v.unknown_rank() && v.rank() == 1 && v.dim(0) >= 0) {
                            c.set_output(0, UnknownDims(static_cast<int>(v.dim(0))));
                          } else {
                            c.set_output(0, TensorShape::UnknownRank());
                          }
                          return absl::OkStatus();
                        }
                        if (in.IsFullyDefined()) {
                          absl::StatusOr<TensorShape> out = ReshapedShape(in, *shape);
                          if (!out.ok()) return c.Error(out.status().message());
                          c.set_output(0, *out);
                          return absl::OkStatus();
                        }
                        int unknowns = 0;
                        for (int64_t d : *shape) {
                          if (d < -1)
                            return c.Error(absl::StrCat("shape has a negative dimension ", d));
                          unknowns += d == -1;
                        }
                        if (unknowns > 1) {
                          return c.Error(absl::StrCat("shape [", absl::StrJoin(*shape, ","),
                                                      "] has more than one -1"));
                        }
                        c.set_output(0, TensorShape(*shape));
                        return absl::OkStatus();
                      })
                      .SetGradient(ReshapeBackGrad));

BRAID_REGISTER_OP(OpDefBuilder("ExpandDims")
                      .Input("input: T")
                      .Input("dim: Tdim")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tdim", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        const TensorShape& in = c.input_shape(0);
                        std::optional<std::vector<int64_t>> dim = ConstInput(c, 1);
                        if (in.unknown_rank()) {
                          c.set_output(0, TensorShape::UnknownRank());
                          return absl::OkStatus();
                        }
                        if (!dim) {
                          c.set_output(0, UnknownDims(in.rank() + 1));
                          return absl::OkStatus();
                        }
                        if (dim->size() != 1) return c.Error("dim must hold exactly one value");
                        absl::StatusOr<int> a = NormalizeAxis((*dim)[0], in.rank() + 1);
                        if (!a.ok()) return c.Error(a.status().message());
                        std::vector<int64_t> dims = in.dims();
                        dims.insert(dims.begin() + *a, 1);
                        c.set_output(0, TensorShape(dims));
                        return absl::OkStatus();
                      })
                      .SetGradient(ReshapeBackGrad));

BRAID_REGISTER_OP(OpDefBuilder("Squeeze")
                      .Input("input: T")
                      .Output("output: T")
                      .TypeAttr("T")
                      .Attr("squeeze_dims", std::vector<int64_t>{})
                      .SetShapeFn([](InferenceContext& c) {
                        const TensorShape& in = c.input_shape(0);
                        const auto axes = c.attr<std::vector<int64_t>>("squeeze_dims");
                        if (in.unknown_rank()) {
                          c.set_output(0, TensorShape::UnknownRank());
                          return absl::OkStatus();
                        }
                        std::set<int> squeeze;
                        for (int64_t a : axes) {
                          absl::StatusOr<int> n = NormalizeAxis(a, in.rank());
                          if (!n.ok()) return c.Error(n.status().message());
                          if (in.dim(*n) > 1 || in.dim(*n) == 0) {
                            return c.Error(absl::StrCat("cannot squeeze dimension ", *n,
                                                        " of shape ", in.DebugString(),
                                                        ": its size is ", in.dim(*n), ", not 1"));
                          }
                          squeeze.insert(*n);
                        }
                        TensorShape out;
                        for (int i = 0; i < in.rank(); ++i) {
                          if (axes.empty() && in.dim(i) < 0) {  // might be 1
                            c.set_output(0, TensorShape::UnknownRank());
                            return absl::OkStatus();
                          }
                          if (axes.empty() ? in.dim(i) == 1 : squeeze.count(i) > 0) continue;
                          out.AddDim(in.dim(i));
                        }
                        c.set_output(0, out);
                        return absl::OkStatus();
                      })
                      .SetGradient(ReshapeBackGrad));

// ---------------------------------------------------------------------------
// Transposition.

BRAID_REGISTER_OP(OpDefBuilder("Transpose")
                      .Input("x: T")
                      .Input("perm: Tperm")
                      .Output("y: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tperm", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 1, 1));
                        const TensorShape& in = c.input_shape(0);
                        std::optional<std::vector<int64_t>> perm = ConstInput(c, 1);
                        if (!perm) {
                          c.set_output(0, in.unknown_rank() ? in : UnknownDims(in.rank()));
                          return absl::OkStatus();
                        }
                        const int rank = static_cast<int>(perm->size());
                        if (!in.unknown_rank() && in.rank() != rank) {
                          return c.Error(absl::StrCat("perm [", absl::StrJoin(*perm, ","), "] has ",
                                                      rank, " entries but the input ",
                                                      in.DebugString(), " has rank ", in.rank()));
                        }
                        RETURN_IF_ERROR(Wrap(c, CheckPermutation(*perm, rank)));
                        TensorShape out = UnknownDims(rank);
                        if (!in.unknown_rank())
                          for (int i = 0; i < rank; ++i) out.set_dim(i, in.dim((*perm)[i]));
                        c.set_output(0, out);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        Output perm = n.input(1);
                        Output inverse;
                        if (std::optional<std::vector<int64_t>> p = ConstIntValues(perm)) {
                          std::vector<int64_t> inv(p->size());
                          for (size_t i = 0; i < p->size(); ++i)
                            inv[(*p)[i]] = static_cast<int64_t>(i);
                          inverse = Int32Vector(s, inv);
                        } else {
                          inverse = ops::InvertPermutation(s, perm);
                        }
                        (*dx)[0] = ops::Transpose(s, dy[0], inverse);
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("InvertPermutation")
                      .Input("x: T")
                      .Output("y: T")
                      .TypeAttrWithDefault("T", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 0, 1));
                        return UnchangedShape(c);
                      })
                      .NoGradient());

// ---------------------------------------------------------------------------
// Concatenation and splitting.

absl::Status ConcatShape(InferenceContext& c) {
  const int n = c.num_inputs() - 1;
  int rank = -1;
  for (int i = 0; i < n; ++i) {
    const TensorShape& s = c.input_shape(i);
    if (s.unknown_rank()) continue;
    if (rank >= 0 && s.rank() != rank) {
      return c.Error(absl::StrCat("inputs must have equal ranks; input 0 is ",
                                  c.input_shape(0).DebugString(), ", input ", i, " is ",
                                  s.DebugString()));
    }
    rank = s.rank();
  }
  std::optional<int64_t> axis = ConstIntScalar(c.node().input(n));
  if (rank < 0) {
    c.set_output(0, TensorShape::UnknownRank());
    return absl::OkStatus();
  }
  if (rank == 0) return c.Error("cannot concatenate scalars; reshape them to [1] first");
  if (!axis) {
    c.set_output(0, UnknownDims(rank));
    return absl::OkStatus();
  }
  absl::StatusOr<int> a = NormalizeAxis(*axis, rank);
  if (!a.ok()) return c.Error(a.status().message());
  TensorShape out = UnknownDims(rank);
  int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    const TensorShape& s = c.input_shape(i);
    if (s.unknown_rank()) {
      total = -1;
      continue;
    }
    for (int d = 0; d < rank; ++d) {
      if (d == *a) continue;
      if (out.dim(d) >= 0 && s.dim(d) >= 0 && out.dim(d) != s.dim(d)) {
        return c.Error(absl::StrCat("dimension ", d, " differs among the inputs (input ", i,
                                    " has shape ", s.DebugString(), ", an earlier one ", out.dim(d),
                                    "); only axis ", *a, " may differ"));
      }
      if (out.dim(d) < 0) out.set_dim(d, s.dim(d));
    }
    total = (total < 0 || s.dim(*a) < 0) ? -1 : total + s.dim(*a);
  }
  out.set_dim(*a, total);
  c.set_output(0, out);
  return absl::OkStatus();
}

absl::Status ConcatGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  const int num = n.num_inputs() - 1;
  Output axis = n.input(num);
  std::optional<int64_t> static_axis = ConstIntScalar(axis);
  bool all_known = static_axis.has_value();
  for (int i = 0; i < num; ++i) all_known = all_known && n.input(i).shape().IsFullyDefined();
  if (all_known) {
    const int rank = n.input(0).shape().rank();
    const int a = static_cast<int>(*static_axis < 0 ? *static_axis + rank : *static_axis);
    int64_t offset = 0;
    for (int i = 0; i < num; ++i) {
      std::vector<int64_t> begin(rank, 0);
      begin[a] = offset;
      const std::vector<int64_t>& size = n.input(i).shape().dims();
      (*dx)[i] = ops::Slice(s, dy[0], Int32Vector(s, begin), Int32Vector(s, size));
      offset += size[a];
    }
    return absl::OkStatus();
  }
  std::vector<Output> shapes;
  for (int i = 0; i < num; ++i) shapes.push_back(ops::Shape(s, n.input(i)));
  Output axis32 = axis.dtype() == DType::kInt32 ? axis : ops::Cast(s, axis, DType::kInt32);
  std::vector<Output> offsets = ops::ConcatOffset(s, axis32, shapes);
  if (static_cast<int>(offsets.size()) != num) return s.status();
  for (int i = 0; i < num; ++i) (*dx)[i] = ops::Slice(s, dy[0], offsets[i], shapes[i]);
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("ConcatV2")
                      .Input("values: N * T")
                      .Input("axis: Tidx")
                      .Output("output: T")
                      .Attr("N", int64_t{2})
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tidx", DType::kInt32, IndexTypes())
                      .SetShapeFn(ConcatShape)
                      .SetGradient(ConcatGrad));

// Kernel accepts a negative concat_dim (counted from the end).
BRAID_REGISTER_OP(OpDefBuilder("ConcatOffset")
                      .Input("concat_dim: int32")
                      .Input("shape: N * int32")
                      .Output("offset: N * int32")
                      .Attr("N", int64_t{2})
                      .SetShapeFn([](InferenceContext& c) {
                        for (int i = 1; i < c.num_inputs(); ++i) {
                          c.set_output(i - 1, c.input_shape(i));
                        }
                        return absl::OkStatus();
                      })
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("Split")
                      .Input("split_dim: int32")
                      .Input("value: T")
                      .Output("output: num_split * T")
                      .Attr("num_split", int64_t{1})
                      .TypeAttr("T")
                      .SetShapeFn([](InferenceContext& c) {
                        const int64_t num = c.attr<int64_t>("num_split");
                        if (num < 1)
                          return c.Error(absl::StrCat("num_split must be >= 1, got ", num));
                        const TensorShape& in = c.input_shape(1);
                        std::optional<int64_t> axis = ConstIntScalar(c.node().input(0));
                        TensorShape out = in.unknown_rank() ? in : UnknownDims(in.rank());
                        if (!in.unknown_rank() && axis) {
                          absl::StatusOr<int> a = NormalizeAxis(*axis, in.rank());
                          if (!a.ok()) return c.Error(a.status().message());
                          out = in;
                          if (in.dim(*a) >= 0) {
                            if (in.dim(*a) % num != 0) {
                              return c.Error(
                                  absl::StrCat("dimension ", *a, " of ", in.DebugString(),
                                               " is not divisible into ", num, " equal pieces"));
                            }
                            out.set_dim(*a, in.dim(*a) / num);
                          }
                        }
                        for (int i = 0; i < num; ++i) c.set_output(i, out);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        std::vector<Input> parts(dy.begin(), dy.end());
                        (*dx)[1] = ops::Concat(s, parts, n.input(0));
                        return absl::OkStatus();
                      }));

// ---------------------------------------------------------------------------
// Slicing and padding.

BRAID_REGISTER_OP(
    OpDefBuilder("Slice")
        .Input("input: T")
        .Input("begin: Index")
        .Input("size: Index")
        .Output("output: T")
        .TypeAttr("T")
        .TypeAttrWithDefault("Index", DType::kInt32, IndexTypes())
        .SetShapeFn([](InferenceContext& c) {
          RETURN_IF_ERROR(RequireRank(c, 1, 1));
          RETURN_IF_ERROR(RequireRank(c, 2, 1));
          const TensorShape& in = c.input_shape(0);
          std::optional<std::vector<int64_t>> begin = ConstInput(c, 1), size = ConstInput(c, 2);
          if (in.unknown_rank() || !begin || !size) {
            std::optional<std::vector<int64_t>> known = size ? size : begin;
            if (!in.unknown_rank()) {
              c.set_output(0, UnknownDims(in.rank()));
            } else if (known) {
              c.set_output(0, UnknownDims(static_cast<int>(known->size())));
            } else {
              c.set_output(0, TensorShape::UnknownRank());
            }
            if (size && !in.unknown_rank() && static_cast<int>(size->size()) == in.rank()) {
              TensorShape out = UnknownDims(in.rank());
              for (int i = 0; i < in.rank(); ++i)
                if ((*size)[i] >= 0) out.set_dim(i, (*size)[i]);
              c.set_output(0, out);
            }
            return absl::OkStatus();
          }
          absl::StatusOr<std::vector<int64_t>> sizes = SliceSizes(in, *begin, *size);
          if (!sizes.ok()) return c.Error(sizes.status().message());
          c.set_output(0, TensorShape(*sizes));
          return absl::OkStatus();
        })
        .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
          // Pad dy back to x's shape: before = begin, after = rest.
          Output x = n.input(0), begin = n.input(1);
          const TensorShape& ys = n.output(0).shape();
          std::optional<std::vector<int64_t>> b = ConstIntValues(begin);
          if (b && x.shape().IsFullyDefined() && ys.IsFullyDefined()) {
            const int rank = x.shape().rank();
            Tensor pads(DType::kInt32, TensorShape{rank, 2});
            for (int i = 0; i < rank; ++i) {
              pads.data<int32_t>()[2 * i] = static_cast<int32_t>((*b)[i]);
              pads.data<int32_t>()[2 * i + 1] =
                  static_cast<int32_t>(x.shape().dim(i) - (*b)[i] - ys.dim(i));
            }
            (*dx)[0] = ops::Pad(s, dy[0], pads);
            return absl::OkStatus();
          }
          const DType index = begin.dtype();
          Output after =
              ops::Sub(s, ops::Sub(s, ops::Shape(s, x, index), begin), ops::Shape(s, dy[0], index));
          Output pads =
              ops::Concat(s, {ops::Reshape(s, begin, {-1, 1}), ops::Reshape(s, after, {-1, 1})}, 1);
          (*dx)[0] = ops::Pad(s, dy[0], pads);
          return absl::OkStatus();
        }));

BRAID_REGISTER_OP(OpDefBuilder("Pad")
                      .Input("input: T")
                      .Input("paddings: Tpaddings")
                      .Output("output: T")
                      .TypeAttr("T")
                      .TypeAttrWithDefault("Tpaddings", DType::kInt32, IndexTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 1, 2));
                        const TensorShape& in = c.input_shape(0);
                        std::optional<std::vector<int64_t>> pads = ConstInput(c, 1);
                        if (in.unknown_rank()) {
                          c.set_output(0, in);
                          return absl::OkStatus();
                        }
                        if (!pads) {
                          c.set_output(0, UnknownDims(in.rank()));
                          return absl::OkStatus();
                        }
                        if (static_cast<int>(pads->size()) != 2 * in.rank()) {
                          return c.Error(absl::StrCat("paddings must be [", in.rank(),
                                                      ", 2] for input ", in.DebugString(), ", got ",
                                                      c.input_shape(1).DebugString()));
                        }
                        TensorShape out = in;
                        for (int i = 0; i < in.rank(); ++i) {
                          const int64_t before = (*pads)[2 * i], after = (*pads)[2 * i + 1];
                          if (before < 0 || after < 0) {
                            return c.Error(absl::StrCat("paddings must be >= 0, got (", before,
                                                        ", ", after, ") for dimension ", i));
                          }
                          if (in.dim(i) >= 0) out.set_dim(i, in.dim(i) + before + after);
                        }
                        c.set_output(0, out);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        Output x = n.input(0), pads = n.input(1);
                        Output begin = ops::Reshape(s, ops::Slice(s, pads, {0, 0}, {-1, 1}), {-1});
                        if (pads.dtype() == DType::kInt32) {
                          (*dx)[0] = ops::Slice(s, dy[0], begin, ShapeVector(s, x));
                        } else {
                          (*dx)[0] = ops::Slice(s, dy[0], begin, ops::Shape(s, x, pads.dtype()));
                        }
                        return absl::OkStatus();
                      }));

}  // namespace

namespace ops {
Output Shape(const Scope& s, Input x, DType out_type) {
  return s.AddOp("Shape", {x}, {{"out_type", out_type}});
}
Output Size(const Scope& s, Input x, DType out_type) {
  return s.AddOp("Size", {x}, {{"out_type", out_type}});
}
Output Rank(const Scope& s, Input x) { return s.AddOp("Rank", {x}); }
Output Reshape(const Scope& s, Input tensor, Input shape) {
  return s.AddOp("Reshape", {tensor, shape});
}
Output Transpose(const Scope& s, Input x, Input perm) { return s.AddOp("Transpose", {x, perm}); }
Output InvertPermutation(const Scope& s, Input x) { return s.AddOp("InvertPermutation", {x}); }
Output Concat(const Scope& s, const std::vector<Input>& values, Input axis) {
  std::vector<Input> in = values;
  in.push_back(axis);
  return s.AddOp("ConcatV2", in);
}
std::vector<Output> ConcatOffset(const Scope& s, Input concat_dim,
                                 const std::vector<Output>& shapes) {
  std::vector<Input> in = {concat_dim};
  in.insert(in.end(), shapes.begin(), shapes.end());
  return s.AddOpOutputs("ConcatOffset", in);
}
std::vector<Output> Split(const Scope& s, Input axis, Input value, int64_t num_split) {
  return s.AddOpOutputs("Split", {axis, value}, {{"num_split", num_split}});
}
Output Slice(const Scope& s, Input input, Input begin, Input size) {
  return s.AddOp("Slice", {input, begin, size});
}
Output Pad(const Scope& s, Input input, Input paddings) {
  return s.AddOp("Pad", {input, paddings});
}
Output ExpandDims(const Scope& s, Input input, Input axis) {
  return s.AddOp("ExpandDims", {input, axis});
}
Output Squeeze(const Scope& s, Input input, std::vector<int64_t> axes) {
  return s.AddOp("Squeeze", {input}, {{"squeeze_dims", std::move(axes)}});
}

}  // namespace ops
}  // namespace braid
