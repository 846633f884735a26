// Symbolic differentiation: adds to the graph the ops that compute
// d(sum of ys * grad_ys)/d(xs).
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "braid/graph/scope.h"

namespace braid {

// For each x, the gradient of the ys with respect to x, built under
// "gradients/" in `scope`. `grad_ys` is empty (ones are used) or one tensor per
// y. Contributions along several paths (fan-out) are summed; no gradient flows
// through StopGradient, ops marked NoGradient, or non-floating-point edges. An x
// that no y depends on gets an invalid Output (no gradient). Gradient ops of a
// forward op request that op's device, so towers keep their backward pass local.
// Fails when an op on a path from xs to ys has no registered gradient.
absl::Status AddGradients(const Scope& scope, const std::vector<Output>& ys,
                          const std::vector<Output>& xs, const std::vector<Output>& grad_ys,
                          std::vector<Output>* grad_xs);

}  // namespace braid
