// The nn op family, part 1: dense layers, activations, softmax losses, batch
// normalization and dropout. Convolution and pooling are in nn_conv_ops.cc.
#include "braid/graph/ops/nn_ops.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/nn_op_util.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

const std::vector<DType> kFloatOnly = {DType::kFloat};

int64_t DimOrUnknown(const TensorShape& s, int i) {
  if (s.unknown_rank()) return TensorShape::kUnknownDim;
  return s.dim(i < 0 ? s.rank() + i : i);
}

// The more specific of two sizes of one dimension; an error when both are
// known and differ.
absl::StatusOr<int64_t> MergeDim(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0 || a == b) return a;
  return absl::InvalidArgumentError(absl::StrCat(a, " vs ", b));
}

absl::Status RequireMinRank(InferenceContext& c, int i, int rank) {
  const TensorShape& s = c.input_shape(i);
  if (!s.unknown_rank() && s.rank() < rank) {
    return c.Error(absl::StrCat("input ", i, " must have rank at least ", rank, ", got shape ",
                                s.DebugString()));
  }
  return absl::OkStatus();
}

// Sums over the last axis, keeping it (for the softmax gradients).
Output SumLastAxis(const Scope& s, const Output& x) {
  return s.AddOp("Sum", {x, Input({-1})}, {{"keep_dims", true}});
}

// ---------------------------------------------------------------- MatMul

absl::Status MatMulShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 0, 2));
  RETURN_IF_ERROR(RequireRank(c, 1, 2));
  const TensorShape& a = c.input_shape(0);
  const TensorShape& b = c.input_shape(1);
  const bool ta = c.attr<bool>("transpose_a");
  const bool tb = c.attr<bool>("transpose_b");
  const int64_t m = DimOrUnknown(a, ta ? 1 : 0);
  const int64_t ka = DimOrUnknown(a, ta ? 0 : 1);
  const int64_t kb = DimOrUnknown(b, tb ? 1 : 0);
  const int64_t n = DimOrUnknown(b, tb ? 0 : 1);
  if (!MergeDim(ka, kb).ok()) {
    return c.Error(
        absl::StrCat("inner dimensions differ: a is ", a.DebugString(), ", b is ", b.DebugString(),
                     ta || tb ? absl::StrCat(" (transpose_a=", ta ? "true" : "false",
                                             ", transpose_b=", tb ? "true" : "false", ")")
                              : ""));
  }
  c.set_output(0, TensorShape{m, n});
  return absl::OkStatus();
}

absl::Status MatMulGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                        std::vector<Output>* dx) {
  const bool ta = n.attr<bool>("transpose_a");
  const bool tb = n.attr<bool>("transpose_b");
  const Output a = n.input(0);
  const Output b = n.input(1);
  const Output& g = dy[0];
  // With C = op(A) op(B): d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, then
  // transposed back wherever an input was stored transposed.
  if (!ta && !tb) {
    (*dx)[0] = ops::MatMul(s, g, b, false, true);
    (*dx)[1] = ops::MatMul(s, a, g, true, false);
  } else if (!ta && tb) {
    (*dx)[0] = ops::MatMul(s, g, b, false, false);
    (*dx)[1] = ops::MatMul(s, g, a, true, false);
  } else if (ta && !tb) {
    (*dx)[0] = ops::MatMul(s, b, g, false, true);
    (*dx)[1] = ops::MatMul(s, a, g, false, false);
  } else {
    (*dx)[0] = ops::MatMul(s, b, g, true, true);
    (*dx)[1] = ops::MatMul(s, g, a, true, true);
  }
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("MatMul")
                      .Input("a: T")
                      .Input("b: T")
                      .Output("product: T")
                      .TypeAttr("T", kFloatOnly)
                      .Attr("transpose_a", false)
                      .Attr("transpose_b", false)
                      .SetShapeFn(MatMulShape)
                      .SetGradient(MatMulGrad));

// MatMul followed by BiasAdd and optionally Relu, one oneDNN primitive on the
// CPU; written by FuseOps (graph/fuse_ops.h) as grappler writes TensorFlow's
// op of this name, after gradients were built (so it has no gradient of its own: asking for
// one is an error).
BRAID_REGISTER_OP(OpDefBuilder("_FusedMatMul")
                      .Input("a: T")
                      .Input("b: T")
                      .Input("args: num_args * T")
                      .Output("product: T")
                      .TypeAttr("T", kFloatOnly)
                      .Attr("transpose_a", false)
                      .Attr("transpose_b", false)
                      .Attr("num_args", int64_t{1})
                      .Attr("fused_ops", std::vector<std::string>{})
                      .Attr("epsilon", 0.0001f)
                      .Attr("leakyrelu_alpha", 0.2f)
                      .SetShapeFn([](InferenceContext& c) {
                        absl::StatusOr<nn::FusedOps> fused = nn::ParseFusedOps(c.node().attrs());
                        if (!fused.ok()) return c.Error(fused.status().message());
                        RETURN_IF_ERROR(MatMulShape(c));
                        return nn::CheckFusedBiasShape(c, c.output(0));
                      }));

// ---------------------------------------------------------------- BiasAdd

absl::Status RequireChannelsLast(InferenceContext& c) {
  const std::string format = c.attr<std::string>("data_format");
  if (format != "NHWC" && format != "NDHWC") {
    return c.Error(absl::StrCat("data_format '", format,
                                "' is not supported on CPU; use NHWC (channels last)"));
  }
  return absl::OkStatus();
}

absl::Status BiasAddShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireChannelsLast(c));
  RETURN_IF_ERROR(RequireMinRank(c, 0, 2));
  RETURN_IF_ERROR(RequireRank(c, 1, 1));
  TensorShape out = c.input_shape(0);
  if (out.unknown_rank()) {
    c.set_output(0, out);
    return absl::OkStatus();
  }
  const int last = out.rank() - 1;
  absl::StatusOr<int64_t> channels = MergeDim(out.dim(last), DimOrUnknown(c.input_shape(1), 0));
  if (!channels.ok()) {
    return c.Error(absl::StrCat("bias ", c.input_shape(1).DebugString(),
                                " must match the last dimension of value ", out.DebugString()));
  }
  out.set_dim(last, *channels);
  c.set_output(0, out);
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("BiasAdd")
                      .Input("value: T")
                      .Input("bias: T")
                      .Output("output: T")
                      .TypeAttr("T", kFloatOnly)
                      .Attr("data_format", std::string("NHWC"))
                      .SetShapeFn(BiasAddShape)
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        (*dx)[0] = dy[0];
                        (*dx)[1] = ops::BiasAddGrad(s, dy[0]);
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("BiasAddGrad")
                      .Input("out_backprop: T")
                      .Output("output: T")
                      .TypeAttr("T", kFloatOnly)
                      .Attr("data_format", std::string("NHWC"))
                      .SetShapeFn([](InferenceContext& c) {
                        RETURN_IF_ERROR(RequireChannelsLast(c));
                        RETURN_IF_ERROR(RequireMinRank(c, 0, 2));
                        c.set_output(0, TensorShape{DimOrUnknown(c.input_shape(0), -1)});
                        return absl::OkStatus();
                      })
                      // The adjoint of a reduction over all but the last axis broadcasts
                      // back over those axes, which is what BiasAdd onto zeros does.
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        (*dx)[0] = ops::BiasAdd(s, ops::ZerosLike(s, n.input(0)), dy[0]);
                        return absl::OkStatus();
                      }));

// ---------------------------------------------------------------- Relu

absl::Status MergedBinaryShape(InferenceContext& c) {
  absl::StatusOr<TensorShape> s = c.input_shape(0).Merge(c.input_shape(1));
  if (!s.ok()) {
    return c.Error(absl::StrCat("inputs must have the same shape, got ",
                                c.input_shape(0).DebugString(), " and ",
                                c.input_shape(1).DebugString()));
  }
  c.set_output(0, *s);
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("Relu")
                      .Input("features: T")
                      .Output("activations: T")
                      .TypeAttr("T", kFloatOnly)
                      .SetShapeFn(UnchangedShape)
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        // The output, as TensorFlow's gradient does: it is positive exactly
                        // where the input is, and the input (often BiasAdd's output) need not
                        // be kept, so FuseOps can fold BiasAdd and Relu into the producer.
                        (*dx)[0] = ops::ReluGrad(s, dy[0], n.output(0));
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("ReluGrad")
                      .Input("gradients: T")
                      .Input("features: T")
                      .Output("backprops: T")
                      .TypeAttr("T", kFloatOnly)
                      .SetShapeFn(MergedBinaryShape)
                      // Linear in `gradients` with a mask that is piecewise constant in
                      // `features`.
                      .SetGradient([](const Scope& s, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        (*dx)[0] = ops::ReluGrad(s, dy[0], n.input(1));
                        (*dx)[1] = ops::ZerosLike(s, n.input(1));
                        return absl::OkStatus();
                      }));

// ---------------------------------------------------------------- Softmax

absl::Status SoftmaxShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireMinRank(c, 0, 1));
  return UnchangedShape(c);
}

// With y = softmax(x): dx = (dy - sum(dy * y, -1)) * y.
absl::Status SoftmaxGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                         std::vector<Output>* dx) {
  const Output y = n.output(0);
  Output dot = SumLastAxis(s, s.AddOp("Mul", {dy[0], y}));
  (*dx)[0] = s.AddOp("Mul", {s.AddOp("Sub", {dy[0], dot}), y});
  return absl::OkStatus();
}

// With y = log_softmax(x): dx = dy - exp(y) * sum(dy, -1).
absl::Status LogSoftmaxGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                            std::vector<Output>* dx) {
  const Output y = n.output(0);
  Output softmax = s.AddOp("Exp", {y});
  (*dx)[0] = s.AddOp("Sub", {dy[0], s.AddOp("Mul", {softmax, SumLastAxis(s, dy[0])})});
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("Softmax")
                      .Input("logits: T")
                      .Output("softmax: T")
                      .TypeAttr("T", kFloatOnly)
                      .SetShapeFn(SoftmaxShape)
                      .SetGradient(SoftmaxGrad));

BRAID_REGISTER_OP(OpDefBuilder("LogSoftmax")
                      .Input("logits: T")
                      .Output("logsoftmax: T")
                      .TypeAttr("T", kFloatOnly)
                      .SetShapeFn(SoftmaxShape)
                      .SetGradient(LogSoftmaxGrad));

// ------------------------------------------ SparseSoftmaxCrossEntropyWithLogits

absl::Status SparseXentShape(InferenceContext& c) {
  RETURN_IF_ERROR(RequireRank(c, 0, 2));
  RETURN_IF_ERROR(RequireRank(c, 1, 1));
  const TensorShape& features = c.input_shape(0);
  const TensorShape& labels = c.input_shape(1);
  absl::StatusOr<int64_t> batch = MergeDim(DimOrUnknown(features, 0), DimOrUnknown(labels, 0));
  if (!batch.ok()) {
    return c.Error(absl::StrCat("features ", features.DebugString(), " and labels ",
                                labels.DebugString(), " must have the same batch size"));
  }
  c.set_output(0, TensorShape{*batch});
  c.set_output(1, TensorShape{*batch, DimOrUnknown(features, 1)});
  return absl::OkStatus();
}

// backprop = softmax(features) - one_hot(labels) is d loss / d features, so
// the loss gradient scales its rows. A gradient arriving at backprop itself
// flows through the softmax.
absl::Status SparseXentGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                            std::vector<Output>* dx) {
  const Output backprop = n.output(1);
  Output grad = s.AddOp("Mul", {s.AddOp("ExpandDims", {dy[0], -1}), backprop});
  const Output& dbackprop = dy[1];
  if (dbackprop.valid() && dbackprop.node->op() != "ZerosLike") {
    Output softmax = ops::Softmax(s, n.input(0));
    Output dot = SumLastAxis(s, s.AddOp("Mul", {dbackprop, softmax}));
    Output through_softmax = s.AddOp("Mul", {s.AddOp("Sub", {dbackprop, dot}), softmax});
    grad = ops::AddN(s, {grad, through_softmax});
  }
  (*dx)[0] = grad;
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
                      .Input("features: T")
                      .Input("labels: Tlabels")
                      .Output("loss: T")
                      .Output("backprop: T")
                      .TypeAttr("T", kFloatOnly)
                      .TypeAttrWithDefault("Tlabels", DType::kInt64, {DType::kInt32, DType::kInt64})
                      .SetShapeFn(SparseXentShape)
                      .SetGradient(SparseXentGrad));

// ---------------------------------------------------------------- batch norm

// The channel count of batch-norm inputs: x's last dimension merged with the
// [C] vectors at `vector_inputs`; `optional_inputs` may also be empty [0].
absl::StatusOr<int64_t> BatchNormChannels(InferenceContext& c, const std::vector<int>& x_like,
                                          const std::vector<int>& vector_inputs,
                                          const std::vector<int>& optional_inputs) {
  RETURN_IF_ERROR(RequireChannelsLast(c));
  TensorShape x = c.input_shape(x_like[0]);
  for (size_t k = 1; k < x_like.size(); ++k) {
    absl::StatusOr<TensorShape> m = x.Merge(c.input_shape(x_like[k]));
    if (!m.ok()) {
      return c.Error(absl::StrCat("inputs ", x_like[0], " and ", x_like[k],
                                  " must have the same shape, got ", x.DebugString(), " and ",
                                  c.input_shape(x_like[k]).DebugString()));
    }
    x = *m;
  }
  if (!x.unknown_rank() && x.rank() < 2) {
    return c.Error(
        absl::StrCat("x must have rank at least 2 (channels last), got shape ", x.DebugString()));
  }
  int64_t channels = DimOrUnknown(x, -1);
  auto merge_vector = [&](int i, bool may_be_empty) -> absl::Status {
    const TensorShape& v = c.input_shape(i);
    RETURN_IF_ERROR(RequireRank(c, i, 1));
    const int64_t size = DimOrUnknown(v, 0);
    if (may_be_empty && size == 0) return absl::OkStatus();
    absl::StatusOr<int64_t> m = MergeDim(channels, size);
    if (!m.ok()) {
      return c.Error(absl::StrCat("input ", i, " has shape ", v.DebugString(), " but x has ",
                                  x.DebugString(), "; it must hold one value per channel"));
    }
    channels = *m;
    return absl::OkStatus();
  };
  for (int i : vector_inputs) RETURN_IF_ERROR(merge_vector(i, false));
  for (int i : optional_inputs) RETURN_IF_ERROR(merge_vector(i, true));
  return channels;
}

absl::Status FusedBatchNormShape(InferenceContext& c) {
  const bool training = c.attr<bool>("is_training");
  // Training computes the statistics; mean and variance matter only for the
  // running average and may then be empty.
  const std::vector<int> vectors = training ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 3, 4};
  const std::vector<int> optional = training ? std::vector<int>{3, 4} : std::vector<int>{};
  ASSIGN_OR_RETURN(int64_t channels, BatchNormChannels(c, {0}, vectors, optional));
  TensorShape y = c.input_shape(0);
  if (!y.unknown_rank()) y.set_dim(y.rank() - 1, channels);
  c.set_output(0, y);
  for (int i = 1; i <= 4; ++i) c.set_output(i, TensorShape{channels});
  c.set_output(5, TensorShape{0});
  return absl::OkStatus();
}

absl::Status FusedBatchNormGradShape(InferenceContext& c) {
  ASSIGN_OR_RETURN(int64_t channels, BatchNormChannels(c, {0, 1}, {2, 3, 4}, {}));
  TensorShape x = *c.input_shape(0).Merge(c.input_shape(1));
  if (!x.unknown_rank()) x.set_dim(x.rank() - 1, channels);
  c.set_output(0, x);
  c.set_output(1, TensorShape{channels});
  c.set_output(2, TensorShape{channels});
  c.set_output(3, TensorShape{0});
  c.set_output(4, TensorShape{0});
  return absl::OkStatus();
}

// Only y's gradient flows back, as in TensorFlow: the batch statistics are
// treated as side outputs. In inference mode the reserve spaces hold the
// given mean and variance, so the same grad op handles both modes.
absl::Status FusedBatchNormGrad(const Scope& s, const Node& n, const std::vector<Output>& dy,
                                std::vector<Output>* dx) {
  ops::FusedBatchNormGradOutputs g =
      ops::FusedBatchNormGrad(s, dy[0], n.input(0), n.input(1), n.output(3), n.output(4),
                              n.output(5), n.attr<float>("epsilon"), n.attr<bool>("is_training"));
  (*dx)[0] = g.x_backprop;
  (*dx)[1] = g.scale_backprop;
  (*dx)[2] = g.offset_backprop;
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("FusedBatchNormV3")
                      .Input("x: T")
                      .Input("scale: U")
                      .Input("offset: U")
                      .Input("mean: U")
                      .Input("variance: U")
                      .Output("y: T")
                      .Output("batch_mean: U")
                      .Output("batch_variance: U")
                      .Output("reserve_space_1: U")
                      .Output("reserve_space_2: U")
                      .Output("reserve_space_3: U")
                      .TypeAttr("T", kFloatOnly)
                      .TypeAttr("U", kFloatOnly)
                      .Attr("epsilon", 1e-3f)
                      .Attr("exponential_avg_factor", 1.0f)
                      .Attr("data_format", std::string("NHWC"))
                      .Attr("is_training", true)
                      .SetShapeFn(FusedBatchNormShape)
                      .SetGradient(FusedBatchNormGrad));

// No gradient of the gradient is registered: second derivatives through batch
// norm are not supported yet (AddGradients reports it by name).
BRAID_REGISTER_OP(OpDefBuilder("FusedBatchNormGradV3")
                      .Input("y_backprop: T")
                      .Input("x: T")
                      .Input("scale: float")
                      .Input("reserve_space_1: U")
                      .Input("reserve_space_2: U")
                      .Input("reserve_space_3: U")
                      .Output("x_backprop: T")
                      .Output("scale_backprop: U")
                      .Output("offset_backprop: U")
                      .Output("reserve_space_4: U")
                      .Output("reserve_space_5: U")
                      .TypeAttr("T", kFloatOnly)
                      .TypeAttr("U", kFloatOnly)
                      .Attr("epsilon", 1e-3f)
                      .Attr("data_format", std::string("NHWC"))
                      .Attr("is_training", true)
                      .SetShapeFn(FusedBatchNormGradShape));

}  // namespace

namespace ops {

Output MatMul(const Scope& scope, Input a, Input b, bool transpose_a, bool transpose_b) {
  return scope.AddOp("MatMul", {a, b},
                     {{"transpose_a", transpose_a}, {"transpose_b", transpose_b}});
}

Output BiasAdd(const Scope& scope, Input value, Input bias) {
  return scope.AddOp("BiasAdd", {value, bias});
}

Output BiasAddGrad(const Scope& scope, Input out_backprop) {
  return scope.AddOp("BiasAddGrad", {out_backprop});
}

Output Relu(const Scope& scope, Input features) { return scope.AddOp("Relu", {features}); }

Output ReluGrad(const Scope& scope, Input gradients, Input features) {
  return scope.AddOp("ReluGrad", {gradients, features});
}

Output Softmax(const Scope& scope, Input logits) { return scope.AddOp("Softmax", {logits}); }

Output LogSoftmax(const Scope& scope, Input logits) { return scope.AddOp("LogSoftmax", {logits}); }

SoftmaxCrossEntropy SparseSoftmaxCrossEntropyWithLogits(const Scope& scope, Input features,
                                                        Input labels) {
  std::vector<Output> outs =
      scope.AddOpOutputs("SparseSoftmaxCrossEntropyWithLogits", {features, labels});
  if (outs.size() != 2) return {};
  return {outs[0], outs[1]};
}

FusedBatchNormOutputs FusedBatchNorm(const Scope& scope, Input x, Input scale, Input offset,
                                     Input mean, Input variance,
                                     const FusedBatchNormOptions& options) {
  std::vector<Output> outs =
      scope.AddOpOutputs("FusedBatchNormV3", {x, scale, offset, mean, variance},
                         {{"epsilon", options.epsilon},
                          {"exponential_avg_factor", options.exponential_avg_factor},
                          {"is_training", options.is_training}});
  if (outs.size() != 6) return {};
  return {outs[0], outs[1], outs[2], outs[3], outs[4], outs[5]};
}

FusedBatchNormGradOutputs FusedBatchNormGrad(const Scope& scope, Input y_backprop, Input x,
                                             Input scale, Input reserve_space_1,
                                             Input reserve_space_2, Input reserve_space_3,
                                             float epsilon, bool is_training) {
  std::vector<Output> outs =
      scope.AddOpOutputs("FusedBatchNormGradV3",
                         {y_backprop, x, scale, reserve_space_1, reserve_space_2, reserve_space_3},
                         {{"epsilon", epsilon}, {"is_training", is_training}});
  if (outs.size() != 5) return {};
  return {outs[0], outs[1], outs[2], outs[3], outs[4]};
}

Output Dropout(const Scope& scope, Input x_in, float rate, int64_t seed) {
  if (!scope.ok()) return Output();
  if (!(rate >= 0.f && rate < 1.f)) {
    scope.UpdateStatus(
        absl::InvalidArgumentError(absl::StrCat("Dropout rate must be in [0, 1), got ", rate)));
    return Output();
  }
  const Output x = scope.ToOutput(x_in);
  if (!x.valid()) return Output();
  if (!IsFloatingDType(x.dtype())) {
    scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "Dropout needs a floating-point x, got ", DTypeName(x.dtype()), " (", x.name(), ")")));
    return Output();
  }
  const Scope s = scope.NewSubScope("dropout");
  if (rate == 0.f) return Identity(s, x);
  // Seeds paired as TensorFlow does (Note [Random seeds] in random_ops.h).
  constexpr int64_t kDefaultGraphSeed = 87654321;
  int64_t seed1 = 0;
  int64_t seed2 = 0;
  if (std::optional<int64_t> graph_seed = scope.graph()->seed()) {
    seed1 = *graph_seed;
    seed2 = seed != 0 ? seed : scope.graph()->num_nodes();
  } else if (seed != 0) {
    seed1 = kDefaultGraphSeed;
    seed2 = seed;
  }
  Output uniform = s.AddOp("RandomUniform", {nn::Int32ShapeOf(s, x)},
                           {{"dtype", x.dtype()}, {"seed", seed1}, {"seed2", seed2}});
  Output keep = s.AddOp("GreaterEqual", {uniform, Input(rate)});
  Output mask = s.AddOp("Cast", {keep}, {{"DstT", x.dtype()}});
  Output scaled = s.AddOp("Mul", {x, Input(1.0 / (1.0 - static_cast<double>(rate)))});
  return s.AddOp("Mul", {scaled, mask});
}

}  // namespace ops
}  // namespace braid
