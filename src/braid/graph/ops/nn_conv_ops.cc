// The nn op family, part 2: 2-D convolution and pooling (NHWC) with their
// gradients. Geometry (output sizes, SAME padding) comes from nn_op_util.h,
// shared with the kernels.
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/nn_op_util.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

const std::vector<DType> kFloatOnly = {DType::kFloat};

TensorShape Rank4(const TensorShape& s) {
  return s.unknown_rank() ? TensorShape(std::vector<int64_t>(4, TensorShape::kUnknownDim)) : s;
}

// The attrs of `n` named in `names` (those present), for building a related op.
AttrMap CopyAttrs(const Node& n, std::initializer_list<const char*> names) {
  AttrMap out;
  for (const char* name : names) {
    auto it = n.attrs().find(name);
    if (it != n.attrs().end()) out.emplace(name, it->second);
  }
  return out;
}

AttrMap ConvAttrsOf(const Node& n) {
  return CopyAttrs(n, {"strides", "padding", "explicit_paddings", "dilations", "data_format"});
}
AttrMap PoolAttrsOf(const Node& n) {
  return CopyAttrs(n, {"ksize", "strides", "padding", "explicit_paddings", "data_format"});
}

// Merges `got` into `want` (both rank 4) or explains the mismatch.
absl::Status MergeShape(InferenceContext& c, const char* what, const TensorShape& got,
                        TensorShape* want) {
  absl::StatusOr<TensorShape> m = want->Merge(got);
  if (!m.ok()) {
    return c.Error(absl::StrCat(what, " has shape ", got.DebugString(), " but ",
                                want->DebugString(),
                                " is expected from the other inputs and attrs"));
  }
  *want = *m;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- Conv2D

// The Conv2D output shape for `input` and `filter` (either possibly partial).
absl::StatusOr<TensorShape> ConvOutputShape(InferenceContext& c, const TensorShape& input_in,
                                            const TensorShape& filter_in) {
  absl::StatusOr<nn::Window2DAttrs> attrs = nn::ParseConv2DAttrs(c.node().attrs());
  if (!attrs.ok()) return c.Error(attrs.status().message());
  const TensorShape input = Rank4(input_in);
  const TensorShape filter = Rank4(filter_in);
  if (input.dim(3) >= 0 && filter.dim(2) >= 0 && input.dim(3) != filter.dim(2)) {
    return c.Error(absl::StrCat(
        "input depth ", input.dim(3), " must equal the filter's in_channels ", filter.dim(2),
        ": input is ", input.DebugString(), ", filter (HWIO) is ", filter.DebugString()));
  }
  absl::StatusOr<nn::Window2D> w =
      nn::ComputeWindow2D(*attrs, input.dim(1), input.dim(2), filter.dim(0), filter.dim(1));
  if (!w.ok()) return c.Error(w.status().message());
  return TensorShape{input.dim(0), w->h.out, w->w.out, filter.dim(3)};
}

absl::Status Conv2DShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 0, 4));
  RETURN_IF_ERROR(RequireRank(c, 1, 4));
  ASSIGN_OR_RETURN(TensorShape out, ConvOutputShape(c, c.input_shape(0), c.input_shape(1)));
  c.set_output(0, out);
  return absl::OkStatus();
}

// A shape given as an int32 vector input: its value when known, else rank 4.
absl::StatusOr<TensorShape> ShapeInput(InferenceContext& c, int i) {
  RETURN_IF_ERROR(RequireRank(c, i, 1));
  std::optional<TensorShape> s = c.input_as_shape(i);
  if (!s) return Rank4(TensorShape::UnknownRank());
  if (s->rank() != 4) {
    return c.Error(absl::StrCat("input ", i, " must hold a 4-D shape, got ", s->DebugString()));
  }
  return *s;
}

absl::Status Conv2DBackpropInputShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 1, 4));
  RETURN_IF_ERROR(RequireRank(c, 2, 4));
  ASSIGN_OR_RETURN(TensorShape input, ShapeInput(c, 0));
  const TensorShape filter = Rank4(c.input_shape(1));
  TensorShape out_backprop = Rank4(c.input_shape(2));
  RETURN_IF_ERROR(MergeShape(c, "input_sizes",
                             TensorShape{out_backprop.dim(0), -1, -1, filter.dim(2)}, &input));
  ASSIGN_OR_RETURN(TensorShape expected, ConvOutputShape(c, input, filter));
  RETURN_IF_ERROR(MergeShape(c, "out_backprop", c.input_shape(2), &expected));
  c.set_output(0, input);
  return absl::OkStatus();
}

absl::Status Conv2DBackpropFilterShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 0, 4));
  RETURN_IF_ERROR(RequireRank(c, 2, 4));
  ASSIGN_OR_RETURN(TensorShape filter, ShapeInput(c, 1));
  const TensorShape input = Rank4(c.input_shape(0));
  const TensorShape out_backprop = Rank4(c.input_shape(2));
  RETURN_IF_ERROR(MergeShape(c, "filter_sizes",
                             TensorShape{-1, -1, input.dim(3), out_backprop.dim(3)}, &filter));
  ASSIGN_OR_RETURN(TensorShape expected, ConvOutputShape(c, input, filter));
  RETURN_IF_ERROR(MergeShape(c, "out_backprop", c.input_shape(2), &expected));
  c.set_output(0, filter);
  return absl::OkStatus();
}

absl::Status Conv2DGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                        std::vector<Output>* dx) {
  const Output input = n.input(0);
  const Output filter = n.input(1);
  (*dx)[0] =
      s.AddOp("Conv2DBackpropInput", {nn::Int32ShapeOf(s, input), filter, dy[0]}, ConvAttrsOf(n));
  (*dx)[1] =
      s.AddOp("Conv2DBackpropFilter", {input, nn::Int32ShapeOf(s, filter), dy[0]}, ConvAttrsOf(n));
  return absl::OkStatus();
}

// Conv2DBackpropInput(sizes, W, G) is the adjoint of convolving with W applied
// to G: bilinear in W and G.
absl::Status Conv2DBackpropInputGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                                     std::vector<Output>* dx) {
  const Output filter = n.input(1);
  const Output out_backprop = n.input(2);
  (*dx)[1] = s.AddOp("Conv2DBackpropFilter", {dy[0], nn::Int32ShapeOf(s, filter), out_backprop},
                     ConvAttrsOf(n));
  (*dx)[2] = s.AddOp("Conv2D", {dy[0], filter}, ConvAttrsOf(n));
  return absl::OkStatus();
}

// Conv2DBackpropFilter(X, sizes, G) is d<Conv2D(X, W), G>/dW, which does not
// depend on W: linear in X and in G.
absl::Status Conv2DBackpropFilterGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
  const Output input = n.input(0);
  const Output out_backprop = n.input(2);
  (*dx)[0] = s.AddOp("Conv2DBackpropInput", {nn::Int32ShapeOf(s, input), dy[0], out_backprop},
                     ConvAttrsOf(n));
  (*dx)[2] = s.AddOp("Conv2D", {input, dy[0]}, ConvAttrsOf(n));
  return absl::OkStatus();
}

// TensorFlow's attr set, so GraphDefs written by TensorFlow import unchanged.
OpDefBuilder ConvOp(const std::string& name) {
  OpDefBuilder b(name);
  if (name == "Conv2D") {
    b.Input("input: T").Input("filter: T");
  } else if (name == "_FusedConv2D") {
    b.Input("input: T").Input("filter: T").Input("args: num_args * T");
  } else if (name == "Conv2DBackpropInput") {
    b.Input("input_sizes: int32").Input("filter: T").Input("out_backprop: T");
  } else {
    b.Input("input: T").Input("filter_sizes: int32").Input("out_backprop: T");
  }
  b.Output("output: T")
      .TypeAttr("T", kFloatOnly)
      .RequiredAttr("strides")
      .Attr("use_cudnn_on_gpu", true)
      .RequiredAttr("padding")
      .Attr("explicit_paddings", std::vector<int64_t>{})
      .Attr("data_format", std::string("NHWC"))
      .Attr("dilations", std::vector<int64_t>{1, 1, 1, 1});
  return b;
}

BRAID_REGISTER_OP(ConvOp("Conv2D").SetShapeFn(Conv2DShape).SetGradient(Conv2DGrad));
BRAID_REGISTER_OP(ConvOp("Conv2DBackpropInput")
                      .SetShapeFn(Conv2DBackpropInputShape)
                      .SetGradient(Conv2DBackpropInputGrad));
BRAID_REGISTER_OP(ConvOp("Conv2DBackpropFilter")
                      .SetShapeFn(Conv2DBackpropFilterShape)
                      .SetGradient(Conv2DBackpropFilterGrad));

// Conv2D followed by BiasAdd and optionally Relu, one oneDNN primitive on the
// CPU (the bias and ReLU applied as the output is written). Grappler writes
// TensorFlow's op of this name into the graphs it runs; braid's FuseOps
// (graph/fuse_ops.h) does the same to the graphs a session runs, after
// gradients were built, so the op has no gradient of its own (asking for one
// is an error).
absl::Status FusedConv2DShape(InferenceContext& c) {
  absl::StatusOr<nn::FusedOps> fused = nn::ParseFusedOps(c.node().attrs());
  if (!fused.ok()) return c.Error(fused.status().message());
  RETURN_IF_ERROR(Conv2DShape(c));
  return nn::CheckFusedBiasShape(c, c.output(0));
}

BRAID_REGISTER_OP(ConvOp("_FusedConv2D")
                      .Attr("num_args", int64_t{1})
                      .Attr("fused_ops", std::vector<std::string>{})
                      .Attr("epsilon", 0.0001f)
                      .Attr("leakyrelu_alpha", 0.2f)
                      .SetShapeFn(FusedConv2DShape));

// ---------------------------------------------------------------- pooling

absl::StatusOr<TensorShape> PoolOutputShape(InferenceContext& c, const TensorShape& input_in) {
  absl::StatusOr<nn::Window2DAttrs> attrs = nn::ParsePool2DAttrs(c.node().attrs());
  if (!attrs.ok()) return c.Error(attrs.status().message());
  const TensorShape input = Rank4(input_in);
  absl::StatusOr<nn::Window2D> w =
      nn::ComputeWindow2D(*attrs, input.dim(1), input.dim(2), attrs->window[0], attrs->window[1]);
  if (!w.ok()) return c.Error(w.status().message());
  return TensorShape{input.dim(0), w->h.out, w->w.out, input.dim(3)};
}

absl::Status PoolShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 0, 4));
  ASSIGN_OR_RETURN(TensorShape out, PoolOutputShape(c, c.input_shape(0)));
  c.set_output(0, out);
  return absl::OkStatus();
}

// MaxPoolGrad and MaxPoolGradGrad: (orig_input, orig_output, grad) where grad
// is shaped like orig_output (MaxPoolGrad) or like orig_input (GradGrad).
absl::Status MaxPoolGradShapes(InferenceContext& c, bool grad_like_output) {
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(RequireRank(c, i, 4));
  TensorShape input = Rank4(c.input_shape(0));
  ASSIGN_OR_RETURN(TensorShape pooled, PoolOutputShape(c, input));
  RETURN_IF_ERROR(MergeShape(c, "orig_output", c.input_shape(1), &pooled));
  if (grad_like_output) {
    RETURN_IF_ERROR(MergeShape(c, "grad", c.input_shape(2), &pooled));
    c.set_output(0, input);
  } else {
    RETURN_IF_ERROR(MergeShape(c, "grad", c.input_shape(2), &input));
    c.set_output(0, pooled);
  }
  return absl::OkStatus();
}

absl::Status AvgPoolGradShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 1, 4));
  ASSIGN_OR_RETURN(TensorShape input, ShapeInput(c, 0));
  const TensorShape grad = Rank4(c.input_shape(1));
  RETURN_IF_ERROR(
      MergeShape(c, "orig_input_shape", TensorShape{grad.dim(0), -1, -1, grad.dim(3)}, &input));
  ASSIGN_OR_RETURN(TensorShape pooled, PoolOutputShape(c, input));
  RETURN_IF_ERROR(MergeShape(c, "grad", c.input_shape(1), &pooled));
  c.set_output(0, input);
  return absl::OkStatus();
}

OpDefBuilder PoolOp(const std::string& name, std::vector<std::string> inputs,
                    bool explicit_paddings) {
  OpDefBuilder b(name);
  for (const std::string& in : inputs) b.Input(in);
  b.Output("output: T")
      .TypeAttr("T", kFloatOnly)
      .RequiredAttr("ksize")
      .RequiredAttr("strides")
      .RequiredAttr("padding")
      .Attr("data_format", std::string("NHWC"));
  if (explicit_paddings) b.Attr("explicit_paddings", std::vector<int64_t>{});
  return b;
}

// The max-pooling gradient routes each window's gradient to its maximum,
// which is piecewise constant in the inputs; MaxPoolGrad and MaxPoolGradGrad
// are each other's adjoints in their grad argument.
absl::Status MaxPoolGradGradient(const Scope& s, const Node& n, const std::vector<Output>& dy,
                                 std::vector<Output>* dx, const char* adjoint_op) {
  (*dx)[0] = ops::ZerosLike(s, n.input(0));
  (*dx)[1] = ops::ZerosLike(s, n.input(1));
  (*dx)[2] = s.AddOp(adjoint_op, {n.input(0), n.input(1), dy[0]}, PoolAttrsOf(n));
  return absl::OkStatus();
}

BRAID_REGISTER_OP(
    PoolOp("MaxPool", {"input: T"}, true)
        .SetShapeFn(PoolShape)
        .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                        std::vector<Output>* dx) {
          (*dx)[0] = s.AddOp("MaxPoolGrad", {n.input(0), n.output(0), dy[0]}, PoolAttrsOf(n));
          return absl::OkStatus();
        }));

BRAID_REGISTER_OP(PoolOp("MaxPoolGrad", {"orig_input: T", "orig_output: T", "grad: T"}, true)
                      .SetShapeFn([](InferenceContext& c) { return MaxPoolGradShapes(c, true); })
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        return MaxPoolGradGradient(s, n, dy, dx, "MaxPoolGradGrad");
                      }));

// MaxPoolGrad followed by ReluGrad(·, orig_input) in one pass over the input:
// a gradient routed to a window's maximum is kept only where that maximum is
// positive. FuseOps (graph/fuse_ops.h) writes it for Relu -> MaxPool layers
// after gradients were built; it has no gradient of its own.
BRAID_REGISTER_OP(PoolOp("_FusedMaxPoolGradReluGrad",
                         {"orig_input: T", "orig_output: T", "grad: T"}, true)
                      .SetShapeFn([](InferenceContext& c) { return MaxPoolGradShapes(c, true); }));

// A training graph's MaxPool and its gradient, as FuseOps (graph/fuse_ops.h)
// rewrites them: the forward pass also writes where each window's maximum is
// (oneDNN's workspace, opaque bytes), and the gradient routes by it instead of
// searching the input again, which it then need not read (the largest tensor
// of a CNN's first layer). With relu_grad the gradient also applies the
// ReluGrad of the pooled Relu, as _FusedMaxPoolGradReluGrad does. Internal:
// no gradients.
BRAID_REGISTER_OP(PoolOp("_MaxPoolWithWorkspace", {"input: T"}, true)
                      .Output("workspace: uint8")
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(PoolShape(c));
                        c.set_output(1, TensorShape{TensorShape::kUnknownDim});
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(PoolOp("_MaxPoolGradWithWorkspace",
                         {"orig_input: T", "orig_output: T", "grad: T", "workspace: uint8"}, true)
                      .Attr("relu_grad", false)
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireRank(c, 3, 1));
                        return MaxPoolGradShapes(c, true);
                      }));

BRAID_REGISTER_OP(PoolOp("MaxPoolGradGrad", {"orig_input: T", "orig_output: T", "grad: T"}, true)
                      .SetShapeFn([](InferenceContext& c) { return MaxPoolGradShapes(c, false); })
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        return MaxPoolGradGradient(s, n, dy, dx, "MaxPoolGrad");
                      }));

BRAID_REGISTER_OP(PoolOp("AvgPool", {"value: T"}, false)
                      .SetShapeFn(PoolShape)
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        (*dx)[0] = s.AddOp("AvgPoolGrad", {nn::Int32ShapeOf(s, n.input(0)), dy[0]},
                                           PoolAttrsOf(n));
                        return absl::OkStatus();
                      }));

// AvgPoolGrad is linear in grad and its adjoint is AvgPool itself.
BRAID_REGISTER_OP(PoolOp("AvgPoolGrad", {"orig_input_shape: int32", "grad: T"}, false)
                      .SetShapeFn(AvgPoolGradShape)
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        (*dx)[1] = s.AddOp("AvgPool", {dy[0]}, PoolAttrsOf(n));
                        return absl::OkStatus();
                      }));

AttrMap ConvAttrs(std::vector<int64_t> strides, std::string padding,
                  const ops::Conv2DOptions& options) {
  return {{"strides", std::move(strides)},
          {"padding", std::move(padding)},
          {"dilations", options.dilations},
          {"explicit_paddings", options.explicit_paddings}};
}

AttrMap PoolAttrs(std::vector<int64_t> ksize, std::vector<int64_t> strides, std::string padding) {
  return {{"ksize", std::move(ksize)},
          {"strides", std::move(strides)},
          {"padding", std::move(padding)}};
}

}  // namespace

namespace ops {

Output Conv2D(const Scope& scope, Input input, Input filter, std::vector<int64_t> strides,
              std::string padding, const Conv2DOptions& options) {
  return scope.AddOp("Conv2D", {input, filter},
                     ConvAttrs(std::move(strides), std::move(padding), options));
}

Output Conv2DBackpropInput(const Scope& scope, Input input_sizes, Input filter, Input out_backprop,
                           std::vector<int64_t> strides, std::string padding,
                           const Conv2DOptions& options) {
  return scope.AddOp("Conv2DBackpropInput", {input_sizes, filter, out_backprop},
                     ConvAttrs(std::move(strides), std::move(padding), options));
}

Output Conv2DBackpropFilter(const Scope& scope, Input input, Input filter_sizes, Input out_backprop,
                            std::vector<int64_t> strides, std::string padding,
                            const Conv2DOptions& options) {
  return scope.AddOp("Conv2DBackpropFilter", {input, filter_sizes, out_backprop},
                     ConvAttrs(std::move(strides), std::move(padding), options));
}

Output MaxPool(const Scope& scope, Input input, std::vector<int64_t> ksize,
               std::vector<int64_t> strides, std::string padding) {
  return scope.AddOp("MaxPool", {input},
                     PoolAttrs(std::move(ksize), std::move(strides), std::move(padding)));
}

Output MaxPoolGrad(const Scope& scope, Input orig_input, Input orig_output, Input grad,
                   std::vector<int64_t> ksize, std::vector<int64_t> strides, std::string padding) {
  return scope.AddOp("MaxPoolGrad", {orig_input, orig_output, grad},
                     PoolAttrs(std::move(ksize), std::move(strides), std::move(padding)));
}

Output MaxPoolGradGrad(const Scope& scope, Input orig_input, Input orig_output, Input grad,
                       std::vector<int64_t> ksize, std::vector<int64_t> strides,
                       std::string padding) {
  return scope.AddOp("MaxPoolGradGrad", {orig_input, orig_output, grad},
                     PoolAttrs(std::move(ksize), std::move(strides), std::move(padding)));
}

Output AvgPool(const Scope& scope, Input value, std::vector<int64_t> ksize,
               std::vector<int64_t> strides, std::string padding) {
  return scope.AddOp("AvgPool", {value},
                     PoolAttrs(std::move(ksize), std::move(strides), std::move(padding)));
}

Output AvgPoolGrad(const Scope& scope, Input orig_input_shape, Input grad,
                   std::vector<int64_t> ksize, std::vector<int64_t> strides, std::string padding) {
  return scope.AddOp("AvgPoolGrad", {orig_input_shape, grad},
                     PoolAttrs(std::move(ksize), std::move(strides), std::move(padding)));
}

}  // namespace ops
}  // namespace braid
