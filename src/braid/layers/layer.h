// Keras-style layers over the graph API. A layer creates its variables on its
// first Call and reuses them afterwards, so one model can build a training
// graph (dropout on, batch statistics) and an inference graph (dropout off,
// moving statistics) over the same weights.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/scope.h"
#include "nlohmann/json.hpp"

namespace braid::layers {

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;

  // Adds the layer's ops on `x` under `scope`. REQUIRES: `scope` is the same
  // graph on every call.
  absl::StatusOr<Output> Call(const Scope& scope, Output x, bool training);

  const std::string& name() const { return name_; }
  // REQUIRES: before the first Call (the name scopes the layer's ops).
  void set_name(std::string name) { name_ = std::move(name); }
  // The layer's type and parameters, as in a model spec ({"type": "dense", ...}).
  virtual nlohmann::json Config() const = 0;
  // Every variable the layer created (trainable and not).
  const std::vector<Variable>& variables() const { return variables_; }
  // Ops that must run with each training step (moving statistics).
  const std::vector<Node*>& update_ops() const { return update_ops_; }
  // Human-readable output shape and parameter count, for model summaries.
  int64_t num_parameters() const;

 protected:
  // Creates variables (first call only: `build` is true) and the ops.
  virtual absl::StatusOr<Output> Build(const Scope& scope, Output x, bool training) = 0;
  Variable AddVariable(const Scope& scope, const std::string& name, const TensorShape& shape,
                       const Initializer& init, bool trainable = true);
  bool built() const { return built_; }
  void AddUpdateOp(Node* op) { update_ops_.push_back(op); }

 private:
  std::string name_;
  bool built_ = false;
  std::vector<Variable> variables_;
  std::vector<Node*> update_ops_;
};

// An element-wise activation by name: "linear", "relu", "sigmoid", "tanh",
// "softmax", "log_softmax". Unknown names are InvalidArgument.
absl::StatusOr<Output> ApplyActivation(const Scope& scope, const std::string& activation, Output x);
absl::Status CheckActivation(const std::string& activation);

// Builders, named as Keras names them; `name` empty = derived from the type.
std::unique_ptr<Layer> Dense(int64_t units, std::string activation = "linear",
                             bool use_bias = true, std::string name = "");
std::unique_ptr<Layer> Conv2D(int64_t filters, std::vector<int64_t> kernel_size,
                              std::vector<int64_t> strides = {1, 1}, std::string padding = "valid",
                              std::string activation = "linear", bool use_bias = true,
                              std::string name = "");
std::unique_ptr<Layer> MaxPool2D(std::vector<int64_t> pool_size = {2, 2},
                                 std::vector<int64_t> strides = {},
                                 std::string padding = "valid", std::string name = "");
std::unique_ptr<Layer> AvgPool2D(std::vector<int64_t> pool_size = {2, 2},
                                 std::vector<int64_t> strides = {},
                                 std::string padding = "valid", std::string name = "");
std::unique_ptr<Layer> Flatten(std::string name = "");
std::unique_ptr<Layer> Dropout(float rate, int64_t seed = 0, std::string name = "");
std::unique_ptr<Layer> BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f,
                                          std::string name = "");
std::unique_ptr<Layer> Embedding(int64_t input_dim, int64_t output_dim, std::string name = "");
std::unique_ptr<Layer> Activation(std::string activation, std::string name = "");

// The layer a model-spec entry describes ({"type": "dense", "units": 10, ...});
// errors name the entry's index, the bad key and what is allowed.
absl::StatusOr<std::unique_ptr<Layer>> LayerFromConfig(const nlohmann::json& config, int index);

}  // namespace braid::layers
