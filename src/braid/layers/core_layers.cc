// Dense, Flatten, Activation, Dropout, Embedding.
#include "absl/strings/str_cat.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/layers/layer.h"

namespace braid::layers {
namespace {

// The size of x's last dimension, which a layer needs to shape its weights.
absl::StatusOr<int64_t> LastDim(const Output& x, const char* layer) {
  const TensorShape& s = x.shape();
  if (s.unknown_rank() || s.rank() < 1 || s.dim(s.rank() - 1) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        layer, " needs the size of its input's last dimension; the input has shape ",
        s.DebugString()));
  }
  return s.dim(s.rank() - 1);
}

class DenseLayer : public Layer {
 public:
  DenseLayer(int64_t units, std::string activation, bool use_bias, std::string name)
      : Layer(name.empty() ? "dense" : std::move(name)), units_(units),
        activation_(std::move(activation)), use_bias_(use_bias) {}
  nlohmann::json Config() const override {
    return {{"type", "dense"}, {"units", units_}, {"activation", activation_},
            {"use_bias", use_bias_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool) override {
    if (x.shape().unknown_rank() || x.shape().rank() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dense expects a [batch, features] input, got ", x.shape().DebugString(),
          "; add a flatten layer before it"));
    }
    if (!built()) {
      auto in = LastDim(x, "dense");
      if (!in.ok()) return in.status();
      kernel_ = AddVariable(s, "kernel", TensorShape{*in, units_}, Initializer::GlorotUniform());
      if (use_bias_) bias_ = AddVariable(s, "bias", TensorShape{units_}, Initializer::Zeros());
    }
    Output y = ops::MatMul(s, x, kernel_.value);
    if (use_bias_) y = ops::BiasAdd(s, y, bias_.value);
    return ApplyActivation(s, activation_, y);
  }

 private:
  int64_t units_;
  std::string activation_;
  bool use_bias_;
  Variable kernel_, bias_;
};

class FlattenLayer : public Layer {
 public:
  explicit FlattenLayer(std::string name) : Layer(name.empty() ? "flatten" : std::move(name)) {}
  nlohmann::json Config() const override { return {{"type", "flatten"}}; }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool) override {
    const TensorShape& shape = x.shape();
    if (shape.unknown_rank() || shape.rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat("flatten needs a known rank, got ",
                                                     shape.DebugString()));
    }
    int64_t features = 1;
    for (int i = 1; i < shape.rank(); ++i) {
      if (shape.dim(i) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "flatten needs every dimension but the batch known, got ", shape.DebugString()));
      }
      features *= shape.dim(i);
    }
    return ops::Reshape(s, x, Tensor::FromVector<int64_t>({-1, features}));
  }
};

class ActivationLayer : public Layer {
 public:
  ActivationLayer(std::string activation, std::string name)
      : Layer(name.empty() ? "activation" : std::move(name)), activation_(std::move(activation)) {}
  nlohmann::json Config() const override {
    return {{"type", "activation"}, {"activation", activation_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool) override {
    return ApplyActivation(s, activation_, x);
  }

 private:
  std::string activation_;
};

class DropoutLayer : public Layer {
 public:
  DropoutLayer(float rate, int64_t seed, std::string name)
      : Layer(name.empty() ? "dropout" : std::move(name)), rate_(rate), seed_(seed) {}
  nlohmann::json Config() const override {
    nlohmann::json j = {{"type", "dropout"}, {"rate", rate_}};
    if (seed_ != 0) j["seed"] = seed_;
    return j;
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output x, bool training) override {
    if (rate_ < 0 || rate_ >= 1) {
      return absl::InvalidArgumentError(absl::StrCat("dropout rate ", rate_,
                                                     " is outside [0, 1)"));
    }
    return training ? ops::Dropout(s, x, rate_, seed_) : x;
  }

 private:
  float rate_;
  int64_t seed_;
};

class EmbeddingLayer : public Layer {
 public:
  EmbeddingLayer(int64_t input_dim, int64_t output_dim, std::string name)
      : Layer(name.empty() ? "embedding" : std::move(name)), input_dim_(input_dim),
        output_dim_(output_dim) {}
  nlohmann::json Config() const override {
    return {{"type", "embedding"}, {"input_dim", input_dim_}, {"output_dim", output_dim_}};
  }

 protected:
  absl::StatusOr<Output> Build(const Scope& s, Output ids, bool) override {
    if (ids.dtype() != DType::kInt32 && ids.dtype() != DType::kInt64) {
      // Models read features as float; embedding ids arrive as whole numbers.
      ids = ops::Cast(s, ids, DType::kInt32);
    }
    if (!built()) {
      table_ = AddVariable(s, "embeddings", TensorShape{input_dim_, output_dim_},
                           Initializer::RandomUniform(-0.05f, 0.05f));
    }
    return ops::GatherV2(s, table_.value, ids, 0);
  }

 private:
  int64_t input_dim_, output_dim_;
  Variable table_;
};

}  // namespace

std::unique_ptr<Layer> Dense(int64_t units, std::string activation, bool use_bias,
                             std::string name) {
  return std::make_unique<DenseLayer>(units, std::move(activation), use_bias, std::move(name));
}
std::unique_ptr<Layer> Flatten(std::string name) {
  return std::make_unique<FlattenLayer>(std::move(name));
}
std::unique_ptr<Layer> Activation(std::string activation, std::string name) {
  return std::make_unique<ActivationLayer>(std::move(activation), std::move(name));
}
std::unique_ptr<Layer> Dropout(float rate, int64_t seed, std::string name) {
  return std::make_unique<DropoutLayer>(rate, seed, std::move(name));
}
std::unique_ptr<Layer> Embedding(int64_t input_dim, int64_t output_dim, std::string name) {
  return std::make_unique<EmbeddingLayer>(input_dim, output_dim, std::move(name));
}

}  // namespace braid::layers
