// Exporting a trained Sequential model for `braid serve` (docs/serving.md).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "braid/layers/sequential.h"

namespace braid::cli {

// Writes BASE_DIR/<version>/ with the model's inference graph and current
// variable values. Signatures, all with input "x" (float [-1, input dims]):
//   classification: "serving_default" -> "probabilities" (softmax of the
//     output unless the last layer already ends in one), and, when the model
//     outputs logits, "logits" -> "logits"; "classification" (the Classify
//     API: feature "x" -> "scores" = the probabilities, "classes" = "0".."C-1");
//   regression: "serving_default" -> "outputs", and "regression" (the Regress
//     API) -> the same.
// REQUIRES: the model is compiled. Adds a few nodes to its graph (once).
absl::Status ExportSequential(layers::Sequential* model, const std::string& base_dir,
                              int64_t version);

}  // namespace braid::cli
