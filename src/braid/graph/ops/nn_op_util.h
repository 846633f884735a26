// Helpers shared by the nn op family (graph/ops/nn_*.cc) and its kernels
// (kernels/nn/): sliding-window geometry of the 2-D convolution and pooling
// ops (attr validation, output sizes, padding), used by shape functions and
// kernels alike so that static shapes and kernel results cannot disagree.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "braid/graph/attr_value.h"
#include "braid/graph/scope.h"

namespace braid::nn {

enum class Padding { kSame, kValid, kExplicit };

// One spatial dimension of a window placement.
struct WindowDim {
  int64_t out = 0;
  int64_t pad_before = 0;
  int64_t pad_after = 0;
};

// Output size and padding of one spatial dimension, exactly as TensorFlow
// computes them:
//   VALID:    out = (in - k_eff + stride) / stride, no padding;
//   SAME:     out = ceil(in / stride), pad_total = max((out-1)*stride + k_eff - in, 0),
//             pad_before = pad_total / 2 (the extra row/column goes after);
//   EXPLICIT: out = (in + before + after - k_eff + stride) / stride;
// where k_eff = (window - 1) * dilation + 1. A negative output size is an
// error. Unknown inputs (-1 for `in` or `window`) give an unknown output
// (-1) and zero padding.
absl::StatusOr<WindowDim> ComputeWindowDim(int64_t in, int64_t window, int64_t dilation,
                                           int64_t stride, Padding padding,
                                           int64_t explicit_before = 0, int64_t explicit_after = 0);

// Validated attrs of a 2-D windowed op in NHWC layout. For convolutions the
// window comes from the filter at run time; for pooling from `ksize`.
struct Window2DAttrs {
  std::array<int64_t, 2> window = {1, 1};  // pooling only
  std::array<int64_t, 2> strides = {1, 1};
  std::array<int64_t, 2> dilations = {1, 1};
  Padding padding = Padding::kValid;
  // top, bottom, left, right; used when padding is EXPLICIT.
  std::array<int64_t, 4> explicit_pads = {0, 0, 0, 0};
};

// Reads strides, padding, explicit_paddings, dilations and data_format of
// Conv2D and its backprop ops. Errors say which attr is wrong and why.
absl::StatusOr<Window2DAttrs> ParseConv2DAttrs(const AttrMap& attrs);
// Reads ksize, strides, padding (and explicit_paddings when present) and
// data_format of the pooling ops.
absl::StatusOr<Window2DAttrs> ParsePool2DAttrs(const AttrMap& attrs);

// Output geometry of an NHWC window op over an input of spatial size
// (in_h, in_w) with a window of (k_h, k_w).
struct Window2D {
  WindowDim h;
  WindowDim w;
};
absl::StatusOr<Window2D> ComputeWindow2D(const Window2DAttrs& a, int64_t in_h, int64_t in_w,
                                         int64_t k_h, int64_t k_w);

// What a fused op (_FusedConv2D, _FusedMatMul) applies after its convolution
// or product: attr fused_ops must be ["BiasAdd"] or ["BiasAdd", "Relu"], with
// num_args 1 (the bias). Other fusions TensorFlow writes (batch norm, other
// activations) are rejected, naming what was asked.
struct FusedOps {
  bool relu = false;
};
absl::StatusOr<FusedOps> ParseFusedOps(const AttrMap& attrs);
// Shape check of a fused op's bias (input 2): a vector as long as the last
// dimension of `output`, where both are known.
absl::Status CheckFusedBiasShape(InferenceContext& c, const TensorShape& output);

// The shape of `x` as an int32 vector, for the ops that take shapes as inputs
// (the convolution and pooling gradients, RandomUniform): a Const when the
// shape is statically known, else a Shape op (cast to int32 if needed).
Output Int32ShapeOf(const Scope& scope, const Output& x);

}  // namespace braid::nn
