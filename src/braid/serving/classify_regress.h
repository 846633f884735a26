// The Classify and Regress APIs: tf.Examples in, per-example classes/scores or
// values out, for the REST (:classify, :regress) and gRPC front ends alike.
//
// Note [Examples to inputs]
// A TensorFlow classify signature takes the serialized Examples as one string
// tensor and parses them inside its graph. A braid signature with method
// classify or regress instead names its inputs after Example features: input
// `x` (float, shape [-1, 28, 28, 1]) is feature "x" of every Example (or of the
// request's context when an Example lacks it) holding 784 values, in row-major
// order. The server parses the Examples, so the wire API is TF Serving's while
// the graph needs no parsing op. Feature values convert to the input's dtype
// (an int64_list feeds a float input too: JSON does not tell 1 from 1.0).
//
// Outputs: a classify signature has "scores" (float [-1, C]) and optionally
// "classes" (string [-1, C], or [C]: the same labels for every example); a
// regress signature has "outputs" (float [-1] or [-1, 1]).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/serving/inference.h"
#include "tensorflow/core/example/example.pb.h"

namespace braid::serving {

struct ExamplesInput {
  std::vector<const tensorflow::Example*> examples;
  const tensorflow::Example* context = nullptr;  // optional
};

// The signature's inputs built from the Examples (Note [Examples to inputs]).
// InvalidArgument naming the example and feature for a missing feature, a
// wrong value count, a kind that cannot convert; an input whose shape is not
// fully defined past the batch dimension.
absl::StatusOr<std::map<std::string, Tensor>> InputsFromExamples(const FoundSignature& found,
                                                                 const ExamplesInput& input,
                                                                 int64_t max_elements);

// Per example, its (label, score) pairs in the model's class order; a label
// is "" when the signature has no "classes" output.
using Classifications = std::vector<std::vector<std::pair<std::string, float>>>;
absl::StatusOr<Classifications> Classify(const LoadedVersion& version, const FoundSignature& found,
                                         const ExamplesInput& input, int64_t max_elements);
// Per example, its value.
absl::StatusOr<std::vector<float>> Regress(const LoadedVersion& version,
                                           const FoundSignature& found,
                                           const ExamplesInput& input, int64_t max_elements);

}  // namespace braid::serving
