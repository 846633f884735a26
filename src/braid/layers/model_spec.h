// Model specs: a JSON description of a Sequential model, so models can be
// defined without writing C++. The presets "mlp" and "cnn" are bundled specs.
//
// {
//   "name": "mlp",
//   "input_shape": [28, 28, 1],
//   "layers": [{"type": "flatten"},
//              {"type": "dense", "units": 256, "activation": "relu"},
//              {"type": "dense", "units": 10}],
//   "loss": "sparse_categorical_crossentropy",
//   "optimizer": {"type": "adam", "learning_rate": 0.001}
// }
//
// Layer types and keys (all but "type" optional unless marked required):
//   dense: units (required), activation, use_bias, name
//   conv2d: filters, kernel_size (required), strides, padding, activation, use_bias, name
//   max_pool2d / avg_pool2d: pool_size, strides, padding, name
//   flatten: name;  dropout: rate (required), seed, name;  activation: activation (required), name
//   batch_normalization: momentum, epsilon, name;  embedding: input_dim, output_dim (required), name
// Optimizer types: sgd, momentum (momentum, nesterov), adam (beta_1, beta_2,
// epsilon), adagrad (initial_accumulator_value, epsilon), rmsprop (rho,
// momentum, epsilon); all take learning_rate, clipnorm and decay ("none" or
// "cosine": the rate falls along a cosine to zero over the whole run).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/layers/sequential.h"
#include "nlohmann/json.hpp"

namespace braid::layers {

struct ModelSpec {
  std::string name;
  TensorShape input_shape;
  nlohmann::json layers;     // array of layer configs
  std::string loss = "sparse_categorical_crossentropy";
  nlohmann::json optimizer;  // {"type": ..., "learning_rate": ...}
  nlohmann::json ToJson() const;
};

// Parses and validates a spec; errors name `source` (a path or preset) and
// what is wrong, e.g. "layers[2]: unknown key 'unit' for dense; allowed: ...".
absl::StatusOr<ModelSpec> ParseModelSpec(const std::string& text, const std::string& source);
// "mlp" or "cnn" (bundled), or the path of a JSON file.
absl::StatusOr<ModelSpec> LoadModelSpec(const std::string& preset_or_path);
// The spec text of a preset, or NotFound.
absl::StatusOr<std::string> PresetSpecText(const std::string& preset);

// The model's layers (not yet compiled).
absl::StatusOr<std::unique_ptr<Sequential>> BuildModel(const ModelSpec& spec);
// The optimizer a spec entry describes, for a run of `total_steps` steps.
absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const nlohmann::json& spec,
                                                         int64_t total_steps);

}  // namespace braid::layers
