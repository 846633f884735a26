#include "braid/graph/ops/math_ops.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/grad_util.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

using Grads = std::vector<Output>;

std::vector<DType> RealTypes() {
  return {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64};
}
std::vector<DType> FloatTypes() { return {DType::kFloat, DType::kDouble}; }
std::vector<DType> IndexTypes() { return {DType::kInt32, DType::kInt64}; }

// ---------------------------------------------------------------------------
// Binary element-wise ops. Gradients: Note [Broadcast gradients].

OpDefBuilder BinaryOp(const char* name, std::vector<DType> types, const char* out = "z: T") {
  return OpDefBuilder(name)
      .Input("x: T")
      .Input("y: T")
      .Output(out)
      .TypeAttr("T", std::move(types))
      .SetShapeFn(BroadcastBinaryShape);
}

// Sets dx[0], dx[1] from gradients shaped like the broadcast output.
void SetBinaryGrads(const Scope& s, const Node& n, Output gx, Output gy, Grads* dx) {
  (*dx)[0] = ReduceGradToShape(s, gx, n.input(0), n.input(1));
  (*dx)[1] = ReduceGradToShape(s, gy, n.input(1), n.input(0));
}

absl::Status AddGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  SetBinaryGrads(s, n, dy[0], dy[0], dx);
  return absl::OkStatus();
}
absl::Status SubGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  SetBinaryGrads(s, n, dy[0], ops::Neg(s, dy[0]), dx);
  return absl::OkStatus();
}
absl::Status MulGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  SetBinaryGrads(s, n, ops::Mul(s, dy[0], n.input(1)), ops::Mul(s, n.input(0), dy[0]), dx);
  return absl::OkStatus();
}
absl::Status DivGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0), y = n.input(1);
  // d(x/y)/dy = -x / y^2, written as -(x/y)/y to stay in range.
  Output gy = ops::Neg(s, ops::Mul(s, dy[0], ops::Div(s, ops::Div(s, x, y), y)));
  SetBinaryGrads(s, n, ops::Div(s, dy[0], y), gy, dx);
  return absl::OkStatus();
}
absl::Status PowGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0), y = n.input(1);
  Output z = n.output(0);
  Output gx = ops::Mul(s, ops::Mul(s, dy[0], y), ops::Pow(s, x, ops::Sub(s, y, 1)));
  // log(x) is only taken where x > 0; elsewhere d/dy is defined as 0, as
  // TensorFlow does.
  Output log_x = ops::Select(s, ops::Greater(s, x, 0), ops::Log(s, x), ops::ZerosLike(s, x));
  Output gy = ops::Mul(s, ops::Mul(s, dy[0], z), log_x);
  SetBinaryGrads(s, n, gx, gy, dx);
  return absl::OkStatus();
}
// Maximum/Minimum: the gradient goes to x where it won (ties go to x).
template <bool kMax>
absl::Status MaxMinGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0), y = n.input(1);
  Output x_wins = kMax ? ops::GreaterEqual(s, x, y) : ops::LessEqual(s, x, y);
  Output zeros = ops::ZerosLike(s, dy[0]);
  SetBinaryGrads(s, n, ops::Select(s, x_wins, dy[0], zeros), ops::Select(s, x_wins, zeros, dy[0]),
                 dx);
  return absl::OkStatus();
}

BRAID_REGISTER_OP(BinaryOp("Add", RealTypes()).SetGradient(AddGrad));
BRAID_REGISTER_OP(BinaryOp("Sub", RealTypes()).SetGradient(SubGrad));
BRAID_REGISTER_OP(BinaryOp("Mul", RealTypes()).SetGradient(MulGrad));
BRAID_REGISTER_OP(BinaryOp("Div", RealTypes()).SetGradient(DivGrad));
BRAID_REGISTER_OP(BinaryOp("Pow", FloatTypes()).SetGradient(PowGrad));
BRAID_REGISTER_OP(BinaryOp("Maximum", RealTypes()).SetGradient(MaxMinGrad<true>));
BRAID_REGISTER_OP(BinaryOp("Minimum", RealTypes()).SetGradient(MaxMinGrad<false>));

std::vector<DType> EqualityTypes() {
  return {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64, DType::kBool};
}
BRAID_REGISTER_OP(BinaryOp("Equal", EqualityTypes(), "z: bool").NoGradient());
BRAID_REGISTER_OP(BinaryOp("NotEqual", EqualityTypes(), "z: bool").NoGradient());
BRAID_REGISTER_OP(BinaryOp("Less", RealTypes(), "z: bool").NoGradient());
BRAID_REGISTER_OP(BinaryOp("LessEqual", RealTypes(), "z: bool").NoGradient());
BRAID_REGISTER_OP(BinaryOp("Greater", RealTypes(), "z: bool").NoGradient());
BRAID_REGISTER_OP(BinaryOp("GreaterEqual", RealTypes(), "z: bool").NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("SelectV2")
                      .Input("condition: bool")
                      .Input("t: T")
                      .Input("e: T")
                      .Output("output: T")
                      .TypeAttr("T", EqualityTypes())
                      .SetShapeFn([](InferenceContext& c) {
                        absl::StatusOr<TensorShape> s =
                            BroadcastShapes(c.input_shape(1), c.input_shape(2));
                        if (s.ok()) s = BroadcastShapes(c.input_shape(0), *s);
                        if (!s.ok()) return c.Error(s.status().message());
                        c.set_output(0, *s);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        Output zeros = ops::ZerosLike(s, dy[0]);
                        (*dx)[1] = ReduceGradToShape(s, ops::Select(s, n.input(0), dy[0], zeros),
                                                     n.input(1));
                        (*dx)[2] = ReduceGradToShape(s, ops::Select(s, n.input(0), zeros, dy[0]),
                                                     n.input(2));
                        return absl::OkStatus();
                      }));

// ---------------------------------------------------------------------------
// Unary element-wise ops. Gradients use the output y where that is cheaper.

using UnaryGradFn = Output (*)(const Scope& s, Output x, Output y, Output dy);

OpDefBuilder UnaryOp(const char* name, std::vector<DType> types, UnaryGradFn grad) {
  OpDefBuilder b = OpDefBuilder(name)
                       .Input("x: T")
                       .Output("y: T")
                       .TypeAttr("T", std::move(types))
                       .SetShapeFn(UnchangedShape);
  if (grad == nullptr) return b.NoGradient();
  return b.SetGradient([grad](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
    Output y = n.output(0);
    (*dx)[0] = grad(s, n.input(0), y, dy[0]);
    return absl::OkStatus();
  });
}

std::vector<DType> SignedTypes() { return RealTypes(); }

BRAID_REGISTER_OP(UnaryOp("Neg", SignedTypes(), [](const Scope& s, Output, Output, Output dy) {
  return ops::Neg(s, dy);
}));
BRAID_REGISTER_OP(UnaryOp("Abs", SignedTypes(), [](const Scope& s, Output x, Output, Output dy) {
  return ops::Mul(s, dy, ops::Sign(s, x));
}));
BRAID_REGISTER_OP(UnaryOp("Square", SignedTypes(), [](const Scope& s, Output x, Output, Output dy) {
  return ops::Mul(s, dy, ops::Mul(s, x, 2));
}));
BRAID_REGISTER_OP(UnaryOp("Sqrt", FloatTypes(), [](const Scope& s, Output, Output y, Output dy) {
  return ops::Div(s, ops::Mul(s, dy, 0.5), y);
}));
BRAID_REGISTER_OP(UnaryOp("Rsqrt", FloatTypes(), [](const Scope& s, Output, Output y, Output dy) {
  // d(x^-1/2)/dx = -1/2 x^-3/2 = -1/2 y^3
  return ops::Mul(s, dy, ops::Mul(s, ops::Mul(s, y, ops::Square(s, y)), -0.5));
}));
BRAID_REGISTER_OP(UnaryOp("Reciprocal", FloatTypes(),
                          [](const Scope& s, Output, Output y, Output dy) {
                            return ops::Neg(s, ops::Mul(s, dy, ops::Square(s, y)));
                          }));
BRAID_REGISTER_OP(UnaryOp("Exp", FloatTypes(), [](const Scope& s, Output, Output y, Output dy) {
  return ops::Mul(s, dy, y);
}));
BRAID_REGISTER_OP(UnaryOp("Log", FloatTypes(), [](const Scope& s, Output x, Output, Output dy) {
  return ops::Div(s, dy, x);
}));
BRAID_REGISTER_OP(UnaryOp("Sin", FloatTypes(), [](const Scope& s, Output x, Output, Output dy) {
  return ops::Mul(s, dy, ops::Cos(s, x));
}));
BRAID_REGISTER_OP(UnaryOp("Cos", FloatTypes(), [](const Scope& s, Output x, Output, Output dy) {
  return ops::Neg(s, ops::Mul(s, dy, ops::Sin(s, x)));
}));
BRAID_REGISTER_OP(UnaryOp("Sigmoid", FloatTypes(), [](const Scope& s, Output, Output y, Output dy) {
  return ops::Mul(s, dy, ops::Mul(s, y, ops::Sub(s, 1, y)));
}));
BRAID_REGISTER_OP(UnaryOp("Tanh", FloatTypes(), [](const Scope& s, Output, Output y, Output dy) {
  return ops::Mul(s, dy, ops::Sub(s, 1, ops::Square(s, y)));
}));
// Piecewise constant: no gradient flows.
BRAID_REGISTER_OP(UnaryOp("Floor", FloatTypes(), nullptr));
BRAID_REGISTER_OP(UnaryOp("Sign", SignedTypes(), nullptr));

// ---------------------------------------------------------------------------
// Reductions.

// Reads constant axes and checks them against a known rank.
absl::StatusOr<std::optional<std::set<int>>> StaticAxes(InferenceContext& c, int axes_input,
                                                        const TensorShape& in) {
  std::optional<std::vector<int64_t>> axes = ConstIntValues(c.node().input(axes_input));
  if (!axes || in.unknown_rank()) return std::optional<std::set<int>>();
  std::set<int> out;
  for (int64_t a : *axes) {
    if (a < -in.rank() || a >= in.rank()) {
      return c.Error(absl::StrCat("axis ", a, " is out of range for input of rank ", in.rank(),
                                  " (shape ", in.DebugString(), "); valid axes are [", -in.rank(),
                                  ", ", in.rank(), ")"));
    }
    out.insert(static_cast<int>(a < 0 ? a + in.rank() : a));
  }
  return std::optional<std::set<int>>(std::move(out));
}

absl::Status ReductionShape(InferenceContext& c) {
  const TensorShape& in = c.input_shape(0);
  const bool keep_dims = c.attr<bool>("keep_dims");
  absl::StatusOr<std::optional<std::set<int>>> axes = StaticAxes(c, 1, in);
  if (!axes.ok()) return axes.status();
  if (!axes->has_value()) {
    if (keep_dims && !in.unknown_rank()) {
      c.set_output(0, TensorShape(std::vector<int64_t>(in.rank(), TensorShape::kUnknownDim)));
    } else {
      c.set_output(0, TensorShape::UnknownRank());
    }
    return absl::OkStatus();
  }
  TensorShape out;
  for (int i = 0; i < in.rank(); ++i) {
    if (!(*axes)->count(i)) {
      out.AddDim(in.dim(i));
    } else if (keep_dims) {
      out.AddDim(1);
    }
  }
  c.set_output(0, out);
  return absl::OkStatus();
}

OpDefBuilder ReductionOp(const char* name, std::vector<DType> types) {
  return OpDefBuilder(name)
      .Input("input: T")
      .Input("reduction_indices: Tidx")
      .Output("output: T")
      .TypeAttr("T", std::move(types))
      .TypeAttrWithDefault("Tidx", DType::kInt32, IndexTypes())
      .Attr("keep_dims", false)
      .SetShapeFn(ReductionShape);
}

// dy (and y) reshaped so that they broadcast against x.
Output KeptDims(const Scope& s, const Node& n, Output t) {
  if (n.attr<bool>("keep_dims")) return t;
  return ops::Reshape(s, t, KeptDimsShape(s, n.input(0), n.input(1)));
}

absl::Status SumGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  (*dx)[0] = ops::BroadcastTo(s, KeptDims(s, n, dy[0]), ShapeVector(s, n.input(0)));
  return absl::OkStatus();
}

absl::Status MeanGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0);
  Output y = n.output(0);
  Output sum_grad = ops::BroadcastTo(s, KeptDims(s, n, dy[0]), ShapeVector(s, x));
  Output count;
  if (x.shape().IsFullyDefined() && y.shape().IsFullyDefined()) {
    const int64_t ny = std::max<int64_t>(y.shape().num_elements(), 1);
    count = ops::Const(s, Tensor::Scalar<int64_t>(x.shape().num_elements() / ny));
  } else {
    count = ops::Div(s, ops::Size(s, x, DType::kInt64),
                     ops::Maximum(s, ops::Size(s, y, DType::kInt64), int64_t{1}));
  }
  (*dx)[0] = ops::Div(s, sum_grad, ops::Cast(s, count, x.dtype()));
  return absl::OkStatus();
}

// Note [Max/Min reduction gradient]
// The gradient goes to every element equal to the result, split evenly among
// ties (TensorFlow's rule), so it is the same whichever tied element a kernel
// would have picked.
absl::Status MaxMinReductionGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0);
  Output y = KeptDims(s, n, n.output(0));
  Output hits = ops::Cast(s, ops::Equal(s, x, y), x.dtype());
  Output count = ops::Sum(s, hits, n.input(1), /*keep_dims=*/true);
  (*dx)[0] = ops::Div(s, ops::Mul(s, hits, KeptDims(s, n, dy[0])), count);
  return absl::OkStatus();
}

absl::Status ProdGrad(const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
  Output x = n.input(0);
  Output y = KeptDims(s, n, n.output(0));
  (*dx)[0] = ops::Div(s, ops::Mul(s, KeptDims(s, n, dy[0]), y), x);
  return absl::OkStatus();
}

BRAID_REGISTER_OP(ReductionOp("Sum", RealTypes()).SetGradient(SumGrad));
BRAID_REGISTER_OP(ReductionOp("Mean", RealTypes()).SetGradient(MeanGrad));
BRAID_REGISTER_OP(ReductionOp("Max", RealTypes()).SetGradient(MaxMinReductionGrad));
BRAID_REGISTER_OP(ReductionOp("Min", RealTypes()).SetGradient(MaxMinReductionGrad));
BRAID_REGISTER_OP(ReductionOp("Prod", RealTypes()).SetGradient(ProdGrad));

absl::Status ArgReductionShape(InferenceContext& c) {
  const TensorShape& in = c.input_shape(0);
  std::optional<int64_t> axis = ConstIntScalar(c.node().input(1));
  if (in.unknown_rank()) {
    c.set_output(0, TensorShape::UnknownRank());
    return absl::OkStatus();
  }
  if (in.rank() == 0) return c.Error("input must have rank >= 1, got a scalar");
  if (!axis) {
    c.set_output(0, TensorShape(std::vector<int64_t>(in.rank() - 1, TensorShape::kUnknownDim)));
    return absl::OkStatus();
  }
  if (*axis < -in.rank() || *axis >= in.rank()) {
    return c.Error(absl::StrCat("dimension ", *axis, " is out of range for input of shape ",
                                in.DebugString(), "; valid: [", -in.rank(), ", ", in.rank(), ")"));
  }
  const int a = static_cast<int>(*axis < 0 ? *axis + in.rank() : *axis);
  if (in.dim(a) == 0) {
    return c.Error(absl::StrCat("cannot reduce over dimension ", a, " of size 0 (input shape ",
                                in.DebugString(), ")"));
  }
  TensorShape out;
  for (int i = 0; i < in.rank(); ++i)
    if (i != a) out.AddDim(in.dim(i));
  c.set_output(0, out);
  return absl::OkStatus();
}

OpDefBuilder ArgReductionOp(const char* name) {
  return OpDefBuilder(name)
      .Input("input: T")
      .Input("dimension: Tidx")
      .Output("output: output_type")
      .TypeAttr("T", RealTypes())
      .TypeAttrWithDefault("Tidx", DType::kInt32, IndexTypes())
      .TypeAttrWithDefault("output_type", DType::kInt64, IndexTypes())
      .SetShapeFn(ArgReductionShape)
      .NoGradient();
}
BRAID_REGISTER_OP(ArgReductionOp("ArgMax"));
BRAID_REGISTER_OP(ArgReductionOp("ArgMin"));

// ---------------------------------------------------------------------------
// Cast.

std::vector<DType> CastTypes() {
  return {DType::kFloat, DType::kDouble, DType::kInt32,   DType::kInt64,
          DType::kUInt8, DType::kBool,   DType::kBFloat16};
}
BRAID_REGISTER_OP(OpDefBuilder("Cast")
                      .Input("x: SrcT")
                      .Output("y: DstT")
                      .TypeAttr("SrcT", CastTypes())
                      .TypeAttr("DstT", CastTypes())
                      .Attr("Truncate", false)
                      .SetShapeFn(UnchangedShape)
                      .SetGradient([](const Scope& s, const Node& n, const Grads& dy, Grads* dx) {
                        const DType src = n.attr<DType>("SrcT");
                        if (IsFloatingDType(src) && IsFloatingDType(n.attr<DType>("DstT"))) {
                          (*dx)[0] = ops::Cast(s, dy[0], src);
                        }
                        return absl::OkStatus();
                      }));

}  // namespace

namespace ops {

Output Add(const Scope& s, Input x, Input y) { return s.AddOp("Add", {x, y}); }
Output Sub(const Scope& s, Input x, Input y) { return s.AddOp("Sub", {x, y}); }
Output Mul(const Scope& s, Input x, Input y) { return s.AddOp("Mul", {x, y}); }
Output Div(const Scope& s, Input x, Input y) { return s.AddOp("Div", {x, y}); }
Output Pow(const Scope& s, Input x, Input y) { return s.AddOp("Pow", {x, y}); }
Output Maximum(const Scope& s, Input x, Input y) { return s.AddOp("Maximum", {x, y}); }
Output Minimum(const Scope& s, Input x, Input y) { return s.AddOp("Minimum", {x, y}); }
Output Equal(const Scope& s, Input x, Input y) { return s.AddOp("Equal", {x, y}); }
Output NotEqual(const Scope& s, Input x, Input y) { return s.AddOp("NotEqual", {x, y}); }
Output Less(const Scope& s, Input x, Input y) { return s.AddOp("Less", {x, y}); }
Output LessEqual(const Scope& s, Input x, Input y) { return s.AddOp("LessEqual", {x, y}); }
Output Greater(const Scope& s, Input x, Input y) { return s.AddOp("Greater", {x, y}); }
Output GreaterEqual(const Scope& s, Input x, Input y) { return s.AddOp("GreaterEqual", {x, y}); }
Output Select(const Scope& s, Input condition, Input t, Input e) {
  return s.AddOp("SelectV2", {condition, t, e});
}

Output Neg(const Scope& s, Input x) { return s.AddOp("Neg", {x}); }
Output Abs(const Scope& s, Input x) { return s.AddOp("Abs", {x}); }
Output Square(const Scope& s, Input x) { return s.AddOp("Square", {x}); }
Output Sqrt(const Scope& s, Input x) { return s.AddOp("Sqrt", {x}); }
Output Rsqrt(const Scope& s, Input x) { return s.AddOp("Rsqrt", {x}); }
Output Reciprocal(const Scope& s, Input x) { return s.AddOp("Reciprocal", {x}); }
Output Exp(const Scope& s, Input x) { return s.AddOp("Exp", {x}); }
Output Log(const Scope& s, Input x) { return s.AddOp("Log", {x}); }
Output Sin(const Scope& s, Input x) { return s.AddOp("Sin", {x}); }
Output Cos(const Scope& s, Input x) { return s.AddOp("Cos", {x}); }
Output Floor(const Scope& s, Input x) { return s.AddOp("Floor", {x}); }
Output Sigmoid(const Scope& s, Input x) { return s.AddOp("Sigmoid", {x}); }
Output Tanh(const Scope& s, Input x) { return s.AddOp("Tanh", {x}); }
Output Sign(const Scope& s, Input x) { return s.AddOp("Sign", {x}); }

Output Sum(const Scope& s, Input x, Input axes, bool keep_dims) {
  return s.AddOp("Sum", {x, axes}, {{"keep_dims", keep_dims}});
}
Output Mean(const Scope& s, Input x, Input axes, bool keep_dims) {
  return s.AddOp("Mean", {x, axes}, {{"keep_dims", keep_dims}});
}
Output Max(const Scope& s, Input x, Input axes, bool keep_dims) {
  return s.AddOp("Max", {x, axes}, {{"keep_dims", keep_dims}});
}
Output Min(const Scope& s, Input x, Input axes, bool keep_dims) {
  return s.AddOp("Min", {x, axes}, {{"keep_dims", keep_dims}});
}
Output Prod(const Scope& s, Input x, Input axes, bool keep_dims) {
  return s.AddOp("Prod", {x, axes}, {{"keep_dims", keep_dims}});
}
Output ArgMax(const Scope& s, Input input, Input dimension, DType output_type) {
  return s.AddOp("ArgMax", {input, dimension}, {{"output_type", output_type}});
}
Output ArgMin(const Scope& s, Input input, Input dimension, DType output_type) {
  return s.AddOp("ArgMin", {input, dimension}, {{"output_type", output_type}});
}

Output Cast(const Scope& s, Input x, DType dst, bool truncate) {
  return s.AddOp("Cast", {x}, {{"DstT", dst}, {"Truncate", truncate}});
}

}  // namespace ops
}  // namespace braid
