// Conv2D, MaxPool2D, AvgPool2D, BatchNormalization (NHWC).
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/layers/layer.h"

namespace braid::layers {
namespace {

// Keras spells padding "valid"/"same"; the ops take "VALID"/"SAME".
absl::StatusOr<std::string> OpPadding(const std::string& padding) {
  std::string p = absl::AsciiStrToUpper(padding);
  if (p != "VALID" && p != "SAME") {
    return absl::InvalidArgumentError(
        absl::StrCat("padding '", padding, "' is not 'valid' or 'same'"));
  }
  return p;
}

absl::Status CheckPair(const std::vector<int64_t>& v, const char* what) {
  if (v.size() != 2 || v[0] < 1 || v[1] < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be two positive integers [height, width]"));
  }
  return absl::OkStatus();
}

absl::Status CheckImage(const Output& x, const char* layer) {
  const TensorShape& s = x.shape();
  if (s.unknown_rank() || s.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        layer, " expects [batch, height, width, channels] input, got ", s.DebugString()));
  }
  return absl::OkStatus();
}

class Conv2DLayer : public Layer {
 public:
  Conv2DLayer(int64_t filters, std::vector<int64_t> kernel, std::vector<int64_t> strides,
              std::string padding, std::string activation, bool use_bias, std::string name)
      : Layer(name.empty() ? "conv2d" : std::move(name)), filters_(filters),
        kernel_size_(std::move(kernel)), strides_(std::move(strides)),
        padding_(std::move(padding)), activation_(std::move(activation)), use_bias_(use_bias) {}
  nlohmann::json Config() const override {
    return {{"type", "conv2d"},   {"filters", filters_},       {"kernel_size", kernel_size_},
            {"strides", strides_}, {"padding", padding_},      {"activation", activation_},
            {"use_bias", use_bias_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool) override {
    if (absl::Status st = CheckImage(x, "conv2d"); !st.ok()) return st;
    if (absl::Status st = CheckPair(kernel_size_, "kernel_size"); !st.ok()) return st;
    if (absl::Status st = CheckPair(strides_, "strides"); !st.ok()) return st;
    auto padding = OpPadding(padding_);
    if (!padding.ok()) return padding.status();
    if (!built()) {
      int64_t in = x.shape().dim(3);
      if (in < 0) return absl::InvalidArgumentError("conv2d needs a known channel count");
      kernel_ = AddVariable(s, "kernel", TensorShape{kernel_size_[0], kernel_size_[1], in, filters_},
                            Initializer::GlorotUniform());
      if (use_bias_) bias_ = AddVariable(s, "bias", TensorShape{filters_}, Initializer::Zeros());
    }
    Output y = ops::Conv2D(s, x, kernel_.value, {1, strides_[0], strides_[1], 1}, *padding);
    if (use_bias_) y = ops::BiasAdd(s, y, bias_.value);
    return ApplyActivation(s, activation_, y);
  }

 private:
  int64_t filters_;
  std::vector<int64_t> kernel_size_, strides_;
  std::string padding_, activation_;
  bool use_bias_;
  Variable kernel_, bias_;
};

class PoolLayer : public Layer {
 public:
  PoolLayer(bool max, std::vector<int64_t> pool, std::vector<int64_t> strides,
            std::string padding, std::string name)
      : Layer(name.empty() ? (max ? "max_pooling2d" : "average_pooling2d") : std::move(name)),
        max_(max), pool_(std::move(pool)),
        strides_(strides.empty() ? pool_ : std::move(strides)), padding_(std::move(padding)) {}
  nlohmann::json Config() const override {
    return {{"type", max_ ? "max_pool2d" : "avg_pool2d"},
            {"pool_size", pool_},
            {"strides", strides_},
            {"padding", padding_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool) override {
    if (absl::Status st = CheckImage(x, "pooling"); !st.ok()) return st;
    if (absl::Status st = CheckPair(pool_, "pool_size"); !st.ok()) return st;
    if (absl::Status st = CheckPair(strides_, "strides"); !st.ok()) return st;
    auto padding = OpPadding(padding_);
    if (!padding.ok()) return padding.status();
    std::vector<int64_t> k = {1, pool_[0], pool_[1], 1}, st = {1, strides_[0], strides_[1], 1};
    return max_ ? ops::MaxPool(s, x, k, st, *padding) : ops::AvgPool(s, x, k, st, *padding);
  }

 private:
  bool max_;
  std::vector<int64_t> pool_, strides_;
  std::string padding_;
};

// Normalizes over the batch (and spatial positions) per channel. Training
// uses batch statistics and folds them into moving averages; inference uses
// the moving averages.
class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(float momentum, float epsilon, std::string name)
      : Layer(name.empty() ? "batch_normalization" : std::move(name)), momentum_(momentum),
        epsilon_(epsilon) {}
  nlohmann::json Config() const override {
    return {{"type", "batch_normalization"}, {"momentum", momentum_}, {"epsilon", epsilon_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool training) override {
    const TensorShape& shape = x.shape();
    if (shape.unknown_rank() || (shape.rank() != 2 && shape.rank() != 4) ||
        shape.dim(shape.rank() - 1) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batch_normalization expects [batch, features] or NHWC input with known channels, got ",
          shape.DebugString()));
    }
    const int64_t c = shape.dim(shape.rank() - 1);
    if (!built()) {
      gamma_ = AddVariable(s, "gamma", TensorShape{c}, Initializer::Ones());
      beta_ = AddVariable(s, "beta", TensorShape{c}, Initializer::Zeros());
      mean_ = AddVariable(s, "moving_mean", TensorShape{c}, Initializer::Zeros(), false);
      var_ = AddVariable(s, "moving_variance", TensorShape{c}, Initializer::Ones(), false);
    }
    // The fused op works on NHWC; a [batch, features] input is viewed as [batch, 1, 1, features].
    Output in = shape.rank() == 2 ? ops::Reshape(s, x, Tensor::FromVector<int64_t>({-1, 1, 1, c}))
                                  : x;
    ops::FusedBatchNormOptions opts;
    opts.epsilon = epsilon_;
    opts.is_training = training;
    opts.exponential_avg_factor = training ? 1.0f - momentum_ : 1.0f;
    ops::FusedBatchNormOutputs bn =
        ops::FusedBatchNorm(s, in, gamma_.value, beta_.value, mean_.value, var_.value, opts);
    if (training) {
      // With the averaging factor the op returns the new moving statistics.
      AddUpdateOp(ops::AssignVariableOp(s, mean_.handle, bn.batch_mean));
      AddUpdateOp(ops::AssignVariableOp(s, var_.handle, bn.batch_variance));
    }
    return shape.rank() == 2 ? ops::Reshape(s, bn.y, Tensor::FromVector<int64_t>({-1, c})) : bn.y;
  }

 private:
  float momentum_, epsilon_;
  Variable gamma_, beta_, mean_, var_;
};

}  // namespace

std::unique_ptr<Layer> Conv2D(int64_t filters, std::vector<int64_t> kernel_size,
                              std::vector<int64_t> strides, std::string padding,
                              std::string activation, bool use_bias, std::string name) {
  return std::make_unique<Conv2DLayer>(filters, std::move(kernel_size), std::move(strides),
                                       std::move(padding), std::move(activation), use_bias,
                                       std::move(name));
}
std::unique_ptr<Layer> MaxPool2D(std::vector<int64_t> pool, std::vector<int64_t> strides,
                                 std::string padding, std::string name) {
  return std::make_unique<PoolLayer>(true, std::move(pool), std::move(strides), std::move(padding),
                                     std::move(name));
}
std::unique_ptr<Layer> AvgPool2D(std::vector<int64_t> pool, std::vector<int64_t> strides,
                                 std::string padding, std::string name) {
  return std::make_unique<PoolLayer>(false, std::move(pool), std::move(strides),
                                     std::move(padding), std::move(name));
}
std::unique_ptr<Layer> BatchNormalization(float momentum, float epsilon, std::string name) {
  return std::make_unique<BatchNormLayer>(momentum, epsilon, std::move(name));
}

}  // namespace braid::layers
