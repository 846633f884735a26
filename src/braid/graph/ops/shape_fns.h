// Shape-function building blocks shared by op families.
#pragma once

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"

namespace braid {

// Output 0 has input 0's shape.
absl::Status UnchangedShape(InferenceContext& c);
// Output 0 is a scalar.
absl::Status ScalarShape(InferenceContext& c);
// NumPy broadcasting of two (possibly partial) shapes; errors show both.
absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b);
// Output 0 is the broadcast of inputs 0 and 1.
absl::Status BroadcastBinaryShape(InferenceContext& c);
// Requires input `i` to have rank `rank` when its rank is known.
absl::Status RequireRank(InferenceContext& c, int i, int rank);

}  // namespace braid
