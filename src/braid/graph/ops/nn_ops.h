// Neural-network ops: dense and convolutional layers, activations, softmax
// losses, pooling, batch normalization and dropout. Names, inputs, attrs and
// semantics are TensorFlow's (layout NHWC, filters HWIO); kernels are in
// kernels/nn/ and run through oneDNN.
//
// Wrappers return invalid Outputs and record the error on the scope when an
// op is rejected (wrong ranks, mismatched dimensions, bad attrs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "braid/graph/scope.h"

namespace braid::ops {

// a * b for 2-D a and b, either transposed first.
Output MatMul(const Scope& scope, Input a, Input b, bool transpose_a = false,
              bool transpose_b = false);

// value + bias, bias broadcast over the last dimension of value.
Output BiasAdd(const Scope& scope, Input value, Input bias);
// Sums out_backprop over every dimension but the last: the bias gradient.
Output BiasAddGrad(const Scope& scope, Input out_backprop);

Output Relu(const Scope& scope, Input features);
// gradients where features > 0, else 0.
Output ReluGrad(const Scope& scope, Input gradients, Input features);

// Over the last axis.
Output Softmax(const Scope& scope, Input logits);
Output LogSoftmax(const Scope& scope, Input logits);

struct SoftmaxCrossEntropy {
  Output loss;      // [batch]
  Output backprop;  // [batch, classes]: softmax(features) - one_hot(labels)
};
// features [batch, classes] float; labels [batch] int32 or int64, each in
// [0, classes) (checked at run time).
SoftmaxCrossEntropy SparseSoftmaxCrossEntropyWithLogits(const Scope& scope, Input features,
                                                        Input labels);

// Options common to the convolution ops. `padding` is "SAME", "VALID" or
// "EXPLICIT" (then `explicit_paddings` holds 8 entries: before/after per NHWC
// dimension, zero for N and C).
struct Conv2DOptions {
  std::vector<int64_t> dilations = {1, 1, 1, 1};
  std::vector<int64_t> explicit_paddings;
};
// input [N,H,W,C], filter [KH,KW,C,OC], strides with 4 entries (NHWC, N and C
// entries 1).
Output Conv2D(const Scope& scope, Input input, Input filter, std::vector<int64_t> strides,
              std::string padding, const Conv2DOptions& options = {});
// The gradient of Conv2D with respect to its input, whose shape is the int32
// vector input_sizes.
Output Conv2DBackpropInput(const Scope& scope, Input input_sizes, Input filter, Input out_backprop,
                           std::vector<int64_t> strides, std::string padding,
                           const Conv2DOptions& options = {});
// The gradient of Conv2D with respect to its filter, whose shape is the int32
// vector filter_sizes.
Output Conv2DBackpropFilter(const Scope& scope, Input input, Input filter_sizes, Input out_backprop,
                            std::vector<int64_t> strides, std::string padding,
                            const Conv2DOptions& options = {});

// Pooling over [N,H,W,C]; ksize and strides have 4 entries (N and C entries 1);
// padding "SAME" or "VALID". Average pooling with SAME padding averages over
// the elements inside the input only.
Output MaxPool(const Scope& scope, Input input, std::vector<int64_t> ksize,
               std::vector<int64_t> strides, std::string padding);
Output MaxPoolGrad(const Scope& scope, Input orig_input, Input orig_output, Input grad,
                   std::vector<int64_t> ksize, std::vector<int64_t> strides, std::string padding);
// For each pooling window, the element of `grad` (shaped like orig_input) at
// the window's maximum: the gradient of MaxPoolGrad with respect to its grad.
Output MaxPoolGradGrad(const Scope& scope, Input orig_input, Input orig_output, Input grad,
                       std::vector<int64_t> ksize, std::vector<int64_t> strides,
                       std::string padding);
Output AvgPool(const Scope& scope, Input value, std::vector<int64_t> ksize,
               std::vector<int64_t> strides, std::string padding);
Output AvgPoolGrad(const Scope& scope, Input orig_input_shape, Input grad,
                   std::vector<int64_t> ksize, std::vector<int64_t> strides, std::string padding);

struct FusedBatchNormOptions {
  float epsilon = 1e-3f;
  // Training only: the returned batch statistics are
  // (1 - factor) * given + factor * batch, a running average.
  float exponential_avg_factor = 1.0f;
  bool is_training = true;
};
struct FusedBatchNormOutputs {
  Output y;
  // Training: the batch mean and the Bessel-corrected batch variance (mixed
  // with mean/variance when exponential_avg_factor != 1). Inference: the given
  // mean and variance.
  Output batch_mean;
  Output batch_variance;
  // What FusedBatchNormGradV3 needs: the mean and the variance used to
  // normalize (biased batch variance in training), and an empty tensor.
  Output reserve_space_1;
  Output reserve_space_2;
  Output reserve_space_3;
};
// FusedBatchNormV3 over the last dimension of x (C): scale, offset, mean and
// variance are [C] (mean and variance may be empty in training).
FusedBatchNormOutputs FusedBatchNorm(const Scope& scope, Input x, Input scale, Input offset,
                                     Input mean, Input variance,
                                     const FusedBatchNormOptions& options = {});

struct FusedBatchNormGradOutputs {
  Output x_backprop;
  Output scale_backprop;
  Output offset_backprop;
  Output reserve_space_4;
  Output reserve_space_5;
};
// FusedBatchNormGradV3; reserve spaces as returned by FusedBatchNorm.
FusedBatchNormGradOutputs FusedBatchNormGrad(const Scope& scope, Input y_backprop, Input x,
                                             Input scale, Input reserve_space_1,
                                             Input reserve_space_2, Input reserve_space_3,
                                             float epsilon = 1e-3f, bool is_training = true);

// Keeps each element of x with probability 1 - rate and scales kept elements
// by 1 / (1 - rate). rate must lie in [0, 1); rate 0 is Identity. A non-zero
// seed makes the mask deterministic. Composite: built from Shape,
// RandomUniform, GreaterEqual, Cast and Mul.
Output Dropout(const Scope& scope, Input x, float rate, int64_t seed = 0);

}  // namespace braid::ops
